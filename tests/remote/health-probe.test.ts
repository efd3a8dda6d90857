// RemoteUpstream.probe() (the remote-health-probe job's check) against real servers on loopback:
// a hand-written JSON-only server without ping, and the SDK test server.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { McpServerConfig } from '../../src/config/server-config';
import { createRemoteUpstream, type RemoteUpstream } from '../../src/servers/remote';
import { startMcpHttpServer, type TestMcpServer } from './helpers/mcp-http-server';

const log = pino({ level: 'silent' });

function remoteConfig(slug: string, url: string): McpServerConfig {
  return { installation_id: `inst-${slug}`, team_id: 'team-a', team_slug: 'alpha', server_slug: slug, installation_name: slug, transport_type: 'http', url, enabled: true };
}

/** A minimal Streamable HTTP server answering in plain JSON, with no ping method; `broken` makes tools/list answer HTTP 500. */
async function startNoPingServer(): Promise<{ url: string; methods: string[]; state: { broken: boolean }; close(): Promise<void> }> {
  const methods: string[] = [];
  const state = { broken: false };
  const http: Server = createServer((req, res) => {
    if (req.method !== 'POST') return void res.writeHead(405).end();
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const msg = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { id?: number; method: string };
      methods.push(msg.method);
      if (msg.id === undefined) return void res.writeHead(202).end();
      const reply = (body: object): void => void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ jsonrpc: '2.0', id: msg.id, ...body }));
      if (msg.method === 'initialize') return reply({ result: { protocolVersion: '2025-06-18', capabilities: { tools: {} }, serverInfo: { name: 'no-ping', version: '1' } } });
      if (msg.method === 'tools/list') return state.broken ? void res.writeHead(500).end('boom') : reply({ result: { tools: [] } });
      reply({ error: { code: -32601, message: `Method not found: ${msg.method}` } });
    });
  });
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(http.address() as AddressInfo).port}/mcp`, methods, state,
    close: () => new Promise<void>((r) => { http.closeAllConnections(); http.close(() => r()); })
  };
}

describe('remote health probe', () => {
  let sdk: TestMcpServer;
  beforeAll(async () => {
    sdk = await startMcpHttpServer({ name: 'probe-sdk' });
  });
  afterAll(async () => {
    await sdk.stop();
  });

  it('falls back to tools/list when the server has no ping, and a failing answer marks it error until it recovers', async () => {
    const srv = await startNoPingServer();
    const up = createRemoteUpstream(remoteConfig('noping', srv.url), { log, defaultTimeoutMs: 2000 });
    try {
      await up.ensureReady();
      srv.methods.length = 0;
      expect(await up.probe(500)).toBe('ok');
      expect(srv.methods).toEqual(['ping', 'tools/list']);
      expect(up.status).toBe('online');

      srv.state.broken = true;
      expect(await up.probe(500)).toBe('failed');
      expect(up.status).toBe('error');
      expect(up.lastError).toMatch(/answered HTTP 500: boom/);

      srv.state.broken = false;
      expect(await up.probe(500)).toBe('ok');
      expect(up.status).toBe('online');
    } finally {
      await up.close();
      await srv.close();
    }
  });

  it('leaves a server with a call in flight alone, and never probes a stopped one', async () => {
    const up: RemoteUpstream = createRemoteUpstream(remoteConfig('busy', sdk.url), { log, defaultTimeoutMs: 3000 });
    try {
      await up.ensureReady();
      const pings = (): number => sdk.seen.filter((s) => s.method === 'POST').length;
      const sent = pings();
      const call = up.request('tools/call', { name: 'slow', arguments: { ms: 300 } });
      call.catch(() => undefined); // awaited below; a failed assertion must not leave it unhandled
      for (let i = 0; i < 100 && pings() === sent; i++) await new Promise((r) => setTimeout(r, 5));
      const before = pings();
      expect(before).toBe(sent + 1);
      expect(await up.probe(500)).toBe('skipped');
      expect(pings()).toBe(before);
      await call;
      expect(await up.probe(500)).toBe('ok');
      await up.stop();
      expect(await up.probe(500)).toBe('skipped');
      expect(up.status).toBe('stopped');
    } finally {
      await up.close();
    }
  });
});
