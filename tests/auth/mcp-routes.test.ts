// The auth hook on the real MCP routes (/mcp, /servers/:slug/mcp, /sse, /message) with the
// conformance fixture as a real stdio server.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { buildApp } from '../../src/app';
import { FIXTURE } from '../conformance/harness';
import { testConfig } from '../helpers/config';

const TOKEN_A = 'auth-routes-team-a-0123456789abcdef';
const TOKEN_A_READ = 'auth-routes-team-a-read-0123456789';
const TOKEN_B = 'auth-routes-team-b-0123456789abcdef';
const ACCEPT = 'application/json, text/event-stream';

const stdio = (team: string, slug: string) => ({
  installation_id: `inst-${team}-${slug}`, team_id: team, team_slug: team, server_slug: slug,
  installation_name: `${team}-${slug}`, transport_type: 'stdio' as const, command: 'node', args: [FIXTURE], enabled: true
});

const init = (id = 1) => JSON.stringify({ jsonrpc: '2.0', id, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'auth-test', version: '1' } } });

describe('authentication on the MCP routes', () => {
  let app: FastifyInstance;
  let base: string;
  beforeAll(async () => {
    app = await buildApp(testConfig({}, {
      teams: { 'team-a': { slug: 'team-a' }, 'team-b': { slug: 'team-b' } },
      tokens: {
        [TOKEN_A]: { team_id: 'team-a', user_id: 'alice' },
        [TOKEN_A_READ]: { team_id: 'team-a', user_id: 'reader', scopes: ['mcp:read'] },
        [TOKEN_B]: { team_id: 'team-b', user_id: 'carol' }
      },
      mcp_servers: {
        a: stdio('team-a', 'conf'),
        b: stdio('team-b', 'only-b')
      }
    }));
    base = await app.listen({ port: 0, host: '127.0.0.1' });
  });
  afterAll(() => app.close());

  it('refuses every method of every MCP route without a token, pointing at the right metadata', async () => {
    const cases: Array<[string, string, string]> = [
      ['POST', '/mcp', '/mcp'], ['GET', '/mcp', '/mcp'], ['DELETE', '/mcp', '/mcp'],
      ['POST', '/servers/conf/mcp', '/servers/conf/mcp'], ['GET', '/servers/conf/mcp', '/servers/conf/mcp'], ['DELETE', '/servers/conf/mcp', '/servers/conf/mcp'],
      ['GET', '/sse', ''], ['POST', '/message?sessionId=00000000-0000-0000-0000-000000000000', '']
    ];
    for (const [method, path, resource] of cases) {
      const res = await fetch(`${base}${path}`, { method, headers: { accept: ACCEPT, 'content-type': 'application/json' }, body: method === 'POST' ? init() : undefined });
      expect(res.status, `${method} ${path}`).toBe(401);
      expect(res.headers.get('www-authenticate'), `${method} ${path}`).toBe(`Bearer resource_metadata="${base}/.well-known/oauth-protected-resource${resource}", scope="mcp:read mcp:tools:execute"`);
      expect(((await res.json()) as { error: { code: number } }).error.code).toBe(-32001);
    }
  });

  it('refuses a token in the query string', async () => {
    const res = await fetch(`${base}/mcp?access_token=${TOKEN_A}`, { method: 'POST', headers: { accept: ACCEPT, 'content-type': 'application/json' }, body: init() });
    expect(res.status).toBe(401);
  });

  it('serves an MCP SDK client that sends its bearer token', async () => {
    const client = new Client({ name: 'auth-sdk', version: '1' });
    await client.connect(new StreamableHTTPClientTransport(new URL(`${base}/servers/conf/mcp`), { requestInit: { headers: { authorization: `Bearer ${TOKEN_A}` } } }));
    try {
      const tools = await client.listTools();
      expect(tools.tools.length).toBeGreaterThan(0);
    } finally {
      await client.close();
    }
  });

  it('does not let team A reach team B\'s server', async () => {
    const asA = await fetch(`${base}/servers/only-b/mcp`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN_A}`, accept: ACCEPT, 'content-type': 'application/json' }, body: init() });
    expect(asA.status).toBe(404);
    await asA.text();
    const asB = await fetch(`${base}/servers/only-b/mcp`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN_B}`, accept: ACCEPT, 'content-type': 'application/json' }, body: init() });
    expect(asB.status).toBe(200);
    await asB.text();
  });

  it('answers tools/call of a read-only token with 403 insufficient_scope, while reads work', async () => {
    const h = (sid?: string) => ({ authorization: `Bearer ${TOKEN_A_READ}`, accept: ACCEPT, 'content-type': 'application/json', ...(sid ? { 'mcp-session-id': sid, 'mcp-protocol-version': '2025-11-25' } : {}) });
    const opened = await fetch(`${base}/servers/conf/mcp`, { method: 'POST', headers: h(), body: init() });
    expect(opened.status).toBe(200);
    await opened.text();
    const sid = opened.headers.get('mcp-session-id')!;
    await (await fetch(`${base}/servers/conf/mcp`, { method: 'POST', headers: h(sid), body: JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }) })).text();
    const list = await fetch(`${base}/servers/conf/mcp`, { method: 'POST', headers: h(sid), body: JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/list' }) });
    expect(list.status).toBe(200);
    await list.text();
    const callRes = await fetch(`${base}/servers/conf/mcp`, { method: 'POST', headers: h(sid), body: JSON.stringify({ jsonrpc: '2.0', id: 3, method: 'tools/call', params: { name: 'test_simple_text', arguments: {} } }) });
    expect(callRes.status).toBe(403);
    expect(callRes.headers.get('www-authenticate')).toBe(`Bearer resource_metadata="${base}/.well-known/oauth-protected-resource/servers/conf/mcp", scope="mcp:tools:execute", error="insufficient_scope", error_description="The token lacks the mcp:tools:execute scope needed for tools/call"`);
    expect(await callRes.json()).toMatchObject({ jsonrpc: '2.0', id: 3, error: { code: -32004 } });
  });
});
