// Limits for modern requests: the per-team, per-tool rate limit decided from Mcp-Name before the
// body is read, and listen streams (exempt from the concurrency limit, capped per team instead).
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startApp, TOKEN_A, TOKEN_B } from '../transports/helpers';
import { modern, modernBody, modernHeaders } from './helpers';

let app: FastifyInstance;
let base: string;

beforeAll(async () => {
  ({ app, base } = await startApp({ TOOL_RATE_LIMIT_RPS: '1', TOOL_RATE_LIMIT_BURST: '2', TEAM_MAX_CONCURRENT_REQUESTS: '1', MCP_MAX_SESSIONS_PER_TEAM: '1' }));
});

afterAll(async () => {
  await app?.close();
});

it('refuses a team\'s third call of one tool with 429 and Retry-After; other tools and teams are unaffected', async () => {
  const url = `${base}/servers/conf/mcp`;
  const call = (name: string, token = TOKEN_A) => modern(url, 'tools/call', { name, arguments: {} }, { token });
  expect((await call('test_simple_text')).status).toBe(200);
  expect((await call('test_simple_text')).status).toBe(200);
  // Refused from the headers alone: the body is not even JSON. (A slow machine may refill one token meanwhile.)
  const burst = await Promise.all([1, 2, 3].map(() => fetch(url, { method: 'POST', headers: modernHeaders('tools/call', { name: 'test_simple_text' }), body: 'not json' })));
  const refusals = burst.filter((r) => r.status === 429);
  expect(refusals.length).toBeGreaterThanOrEqual(2);
  for (const r of burst.filter((x) => x.status !== 429)) await r.text();
  const refused = refusals[0]!;
  expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
  expect(((await refused.json()) as { error: { message: string } }).error.message).toContain('test_simple_text');
  expect((await call('test_error_handling')).status).toBe(200);
  expect((await modern(`${base}/servers/conf-b/mcp`, 'tools/call', { name: 'test_simple_text', arguments: {} }, { token: TOKEN_B })).status).toBe(200);
  // Listing is no tool call: never limited per tool.
  for (let i = 0; i < 3; i++) expect((await modern(url, 'tools/list', {})).status).toBe(200);
});

it('lets an open listen stream not count as a request in flight, and caps listen streams per team', async () => {
  const url = `${base}/servers/conf/mcp`;
  const params = { notifications: { toolsListChanged: true } };
  const open = () => fetch(url, { method: 'POST', headers: modernHeaders('subscriptions/listen', params), body: modernBody('subscriptions/listen', params) });
  const first = await open();
  try {
    expect(first.status).toBe(200);
    // One request in flight allowed per team, yet the open stream does not take it.
    expect((await modern(url, 'tools/list', {})).status).toBe(200);
    const second = await open();
    expect(second.status).toBe(503);
    expect(second.headers.get('retry-after')).toBe('5');
    await second.text();
    // Another team is not affected.
    const other = await fetch(`${base}/servers/conf-b/mcp`, { method: 'POST', headers: modernHeaders('subscriptions/listen', params, { token: TOKEN_B }), body: modernBody('subscriptions/listen', params) });
    expect(other.status).toBe(200);
    await other.body?.cancel();
  } finally {
    await first.body?.cancel();
  }
  // Closed streams free their place.
  let again: Response | undefined;
  for (let i = 0; i < 40; i++) {
    again = await open();
    if (again.status === 200) break;
    await again.text();
    await new Promise((r) => setTimeout(r, 25));
  }
  expect(again?.status).toBe(200);
  await again?.body?.cancel();
});
