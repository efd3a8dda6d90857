// The per-team, per-tool rate limit decided from Mcp-Name before the body is read.
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startApp, TOKEN_A, TOKEN_B } from '../transports/helpers';
import { modern, modernHeaders } from './helpers';

let app: FastifyInstance;
let base: string;

beforeAll(async () => {
  ({ app, base } = await startApp({ TOOL_RATE_LIMIT_RPS: '1', TOOL_RATE_LIMIT_BURST: '2' }));
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
