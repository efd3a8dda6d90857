import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { buildApp } from '../../src/app';
import { testConfig } from '../helpers/config';

const FIXTURE = join(__dirname, 'fixtures/slow-server.mjs');
const SECRET = 'argument-value-never-logged';

const standalone = {
  anonymous: { team_id: 'team-ops', user_id: 'op' },
  teams: { 'team-ops': { slug: 'ops' } },
  mcp_servers: {
    slow: { installation_id: 'inst-slow', team_id: 'team-ops', team_slug: 'ops', server_slug: 'slow', installation_name: 'slow', transport_type: 'stdio' as const, command: 'node', args: [FIXTURE], enabled: true }
  }
};

// Real tools/call traffic through the per-server endpoint, then the metrics and audit it produced.
describe('tool calls are timed and audited', () => {
  let app: FastifyInstance;
  let base: string;
  let dir: string;
  let enabled = false;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'satellite-toolcalls-'));
    app = await buildApp(testConfig({ AUDIT_LOG_FILE: join(dir, 'audit.log'), SATELLITE_DATA_DIR: join(dir, 'data') }, standalone));
    base = await app.listen({ port: 0, host: '127.0.0.1' });
    enabled = app.hasRoute({ method: 'POST', url: '/servers/:slug/mcp' });
  });
  afterAll(async () => {
    await app.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('records latency by team and server, and an audit record without argument values', async (ctx) => {
    if (!enabled) ctx.skip();
    const client = new Client({ name: 'ops-metrics', version: '1.0.0' });
    await client.connect(new StreamableHTTPClientTransport(new URL(`${base}/servers/slow/mcp`)));
    try {
      const result = await client.callTool({ name: 'slow', arguments: { ms: 30, note: SECRET } });
      expect((result.content as Array<{ text: string }>)[0]!.text).toBe('done after 30 ms');
      await expect(client.callTool({ name: 'no_such_tool', arguments: {} })).rejects.toThrow(/unknown tool/);
    } finally {
      await client.close();
    }
    const text = await (await fetch(`${base}/metrics`)).text();
    expect(text).toMatch(/^satellite_tool_call_duration_seconds_count\{team="team-ops",server="slow",outcome="ok"\} 1$/m);
    expect(text).toMatch(/^satellite_tool_call_duration_seconds_count\{team="team-ops",server="slow",outcome="error"\} 1$/m);
    const sum = Number(text.match(/^satellite_tool_call_duration_seconds_sum\{team="team-ops",server="slow",outcome="ok"\} (\S+)$/m)?.[1]);
    expect(sum).toBeGreaterThanOrEqual(0.03);

    const records = readFileSync(join(dir, 'audit.log'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    const calls = records.filter((r) => r.action === 'tool.called');
    expect(calls).toHaveLength(2);
    expect(calls[0]).toMatchObject({ team: 'team-ops', user: 'op', server: 'slow', tool: 'slow', outcome: 'ok', argumentNames: ['ms', 'note'] });
    expect(calls[0].durationMs).toBeGreaterThanOrEqual(30);
    expect(calls[1]).toMatchObject({ tool: 'no_such_tool', outcome: 'error', error: 'unknown tool' });
    expect(records.some((r) => r.action === 'session.created')).toBe(true);
    expect(readFileSync(join(dir, 'audit.log'), 'utf8')).not.toContain(SECRET);
  });

  it('never turns a client-chosen tool name into a server label on the team endpoint', async (ctx) => {
    if (!enabled || !app.hasRoute({ method: 'POST', url: '/mcp' })) ctx.skip();
    const client = new Client({ name: 'ops-metrics-team', version: '1.0.0' });
    await client.connect(new StreamableHTTPClientTransport(new URL(`${base}/mcp`)));
    try {
      await client.callTool({ name: 'made-up-server__anything', arguments: {} }).catch(() => undefined);
    } finally {
      await client.close();
    }
    const text = await (await fetch(`${base}/metrics`)).text();
    expect(text).not.toContain('made-up-server');
    expect(text).toMatch(/^satellite_tool_call_duration_seconds_count\{team="team-ops",server="unknown",outcome="error"\} 1$/m);
  });
});
