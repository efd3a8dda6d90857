// Remote servers inside the real ServerRegistry: built by remoteUpstreamFactory, rebuilt on a
// config change (new credentials take effect, the old session is ended), status and events.
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigStore } from '../../src/config/config-store';
import { loadEnv } from '../../src/config/env';
import { createSandboxDriver } from '../../src/sandbox/factory';
import type { ServerEvents } from '../../src/servers/events';
import { ServerRegistry } from '../../src/servers/registry';
import { createRemoteUpstream, remoteUpstreamFactory, RemoteUpstream } from '../../src/servers/remote';
import { stdioRuntimeOptions } from '../../src/servers/stdio/options';
import { remote, waitFor } from '../gateway/harness';
import { configOf } from '../servers/helpers';
import { startMcpHttpServer, type TestMcpServer } from './helpers/mcp-http-server';

describe('remote servers in the ServerRegistry', () => {
  let s: TestMcpServer;
  let store: ConfigStore;
  let registry: ServerRegistry;
  const statusEvents: ServerEvents['status_changed'][0][] = [];

  beforeAll(async () => {
    s = await startMcpHttpServer({ name: 'reg' });
    const env = loadEnv({ NODE_ENV: 'test', SANDBOX: 'none', LOG_LEVEL: 'silent', SATELLITE_DATA_DIR: join(tmpdir(), `satellite-test-data-${process.pid}`) });
    const log = pino({ level: 'silent' });
    store = new ConfigStore(configOf([remote('web', s.url, { headers: { Authorization: 'Bearer one' } })]));
    registry = new ServerRegistry({ configStore: store, driver: createSandboxDriver(env, log), log, stdio: stdioRuntimeOptions(env), remoteFactory: remoteUpstreamFactory(5000) });
    registry.events.on('status_changed', (e) => void statusEvents.push(e));
    await registry.start();
  });
  afterAll(async () => {
    await registry?.closeAll();
    await s?.stop();
  });

  it('builds a RemoteUpstream that reports status, events and tool count', async () => {
    const up = registry.get('team-a', 'web');
    expect(up).toBeInstanceOf(RemoteUpstream);
    await up!.request('tools/list', {});
    expect(up!.snapshot()).toMatchObject({ teamId: 'team-a', serverSlug: 'web', transport: 'http', status: 'online', toolsCount: 6, installationId: 'inst-web-team-a' });
    expect(statusEvents.some((e) => e.serverSlug === 'web' && e.status === 'online' && e.teamId === 'team-a')).toBe(true);
  });

  it('rebuilds the upstream when its config changes: new headers, old session ended', async () => {
    const old = registry.get('team-a', 'web')!;
    const oldSession = s.seen.find((r) => r.sessionId)!.sessionId;
    store.replace(configOf([remote('web', s.url, { headers: { Authorization: 'Bearer two' } })]));
    await registry.settled();
    const next = registry.get('team-a', 'web')!;
    expect(next).not.toBe(old);
    expect(old.status).toBe('stopped');
    expect(s.seen.some((r) => r.method === 'DELETE' && r.sessionId === oldSession)).toBe(true);
    const who = await next.request('tools/call', { name: 'whoami', arguments: {} });
    expect(JSON.parse((who.content as Array<{ text: string }>)[0]!.text).authorization).toBe('Bearer two');
    await waitFor(() => s.seen.filter((r) => r.method === 'POST').at(-1)?.authorization === 'Bearer two', 1000, 'new header');
  });

  it("uses the server's own timeout over the default", async () => {
    const up = createRemoteUpstream(remote('slowpoke', s.url, { timeout: 150 }), { log: pino({ level: 'silent' }), defaultTimeoutMs: 60_000 });
    try {
      await expect(up.request('tools/call', { name: 'slow', arguments: { ms: 2000 } })).rejects.toThrow("Server 'slowpoke' did not answer within 150 ms.");
    } finally {
      await up.close();
    }
  });
});
