// Progress notifications push a call's deadline out by the request timeout, up to a hard maximum
// (MCP: timeouts MAY reset on progress, SHOULD keep a maximum), for stdio and remote servers.
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JsonRpcNotification } from '../../src/mcp/jsonrpc';
import { createRemoteUpstream } from '../../src/servers/remote';
import type { Upstream } from '../../src/servers/upstream';
import { remote } from '../gateway/harness';
import { startMcpHttpServer, type TestMcpServer } from '../remote/helpers/mcp-http-server';
import { MINI, registryPerTest, server } from './helpers';

/** A tool call with a progress token; returns the result (or error) and how many progress notifications arrived. */
async function callWithProgress(up: Upstream, name: string, args: Record<string, unknown>) {
  const progress: JsonRpcNotification[] = [];
  const outcome = await up
    .request('tools/call', { name, arguments: args, _meta: { progressToken: 'tok-1' } }, { onNotification: (n) => void (n.method === 'notifications/progress' && progress.push(n)) })
    .then((r) => ({ ok: true as const, r }), (e: unknown) => ({ ok: false as const, e }));
  return { outcome, progress };
}

describe('progress resets the request timeout (stdio)', () => {
  const registries = registryPerTest();

  it('keeps a call reporting progress alive past its timeout, and cuts it at the maximum', async () => {
    const h = await registries.start([server('ticker', [MINI])], { requestTimeoutMs: 600, maxRequestTimeoutMs: 2000 });
    const up = h.registry.get('team-a', 'ticker')!;
    // 12 ticks 120 ms apart: 1.4 s in all, more than twice the timeout.
    const alive = await callWithProgress(up, 'progress', { ticks: 12, every: 120 });
    expect(alive.outcome.ok).toBe(true);
    expect(alive.progress.map((n) => n.params?.progressToken)).toEqual(Array(15).fill('tok-1'));

    // Progress forever: the hard maximum still ends it.
    const endless = await callWithProgress(up, 'progress', { ticks: 100, every: 100 });
    expect(endless.outcome.ok).toBe(false);
    expect(!endless.outcome.ok && endless.outcome.e).toMatchObject({ code: -32001, message: 'Request timed out' });
    expect(endless.progress.length).toBeGreaterThanOrEqual(4);
    expect(endless.progress.length).toBeLessThan(100);

    // Progress slower than the timeout does not save a call.
    const slow = await callWithProgress(up, 'progress', { ticks: 2, every: 1500 });
    expect(!slow.outcome.ok && slow.outcome.e).toMatchObject({ code: -32001 });
    expect(slow.progress).toHaveLength(0);
    // The server is still usable.
    await expect(up.request('tools/call', { name: 'echo', arguments: { ok: 1 } })).resolves.toMatchObject({ structuredContent: { echo: { ok: 1 } } });
  });
});

describe('progress resets the request timeout (remote)', () => {
  let web: TestMcpServer;
  beforeAll(async () => {
    web = await startMcpHttpServer({ name: 'ticks' });
  });
  afterAll(async () => {
    await web?.stop();
  });

  it('keeps a call reporting progress alive past its timeout, and cuts it at the maximum', async () => {
    const up = createRemoteUpstream(remote('ticks', web.url, { timeout: 600 }), { log: pino({ level: 'silent' }), defaultTimeoutMs: 600, maxTimeoutMs: 2000 });
    try {
      await up.ensureReady();
      const alive = await callWithProgress(up, 'slow', { ms: 1400, tick: 100 });
      expect(alive.outcome).toMatchObject({ ok: true, r: { content: [{ text: 'slow done' }] } });
      expect(alive.progress.length).toBeGreaterThanOrEqual(4);

      const endless = await callWithProgress(up, 'slow', { ms: 10_000, tick: 100 });
      expect(!endless.outcome.ok && endless.outcome.e).toMatchObject({ code: -32001, message: "Server 'ticks' did not answer within 600 ms." });
      expect(endless.progress.length).toBeGreaterThanOrEqual(4);
      expect(endless.progress.length).toBeLessThan(100);

      // Without progress the plain timeout applies.
      await expect(up.request('tools/call', { name: 'slow', arguments: { ms: 1500 } })).rejects.toMatchObject({ code: -32001 });
    } finally {
      await up.close();
    }
  });
});
