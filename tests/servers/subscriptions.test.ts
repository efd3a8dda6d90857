// Resource subscriptions are ref-counted once per upstream, whichever route holds them (pass-through
// or team gateway), and renewed when the server restarts or wakes from dormancy.
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { ResourceUpdatedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { describe, expect, it } from 'vitest';
import pino from 'pino';
import { createRemoteUpstream } from '../../src/servers/remote';
import type { Upstream } from '../../src/servers/upstream';
import { remote } from '../gateway/harness';
import { startMcpHttpServer } from '../remote/helpers/mcp-http-server';
import { startApp, server as appServer, TOKEN_A, TOKEN_A_BOB } from '../transports/helpers';
import { MINI, registryPerTest, server, textOf, waitFor } from './helpers';

const URI = 'mini://watched';

/** What the child process itself is subscribed to. */
async function serverSubs(up: Upstream): Promise<string[]> {
  return textOf(await up.request('tools/call', { name: 'subs', arguments: {} })).subscriptions;
}

async function waitForSubs(up: Upstream, want: string[], what: string): Promise<void> {
  let last: string[] = [];
  const end = Date.now() + 3000;
  while (Date.now() < end) {
    last = await serverSubs(up);
    if (JSON.stringify(last) === JSON.stringify(want)) return;
    await new Promise((r) => setTimeout(r, 30));
  }
  throw new Error(`${what}: server subscriptions ${JSON.stringify(last)}, wanted ${JSON.stringify(want)}`);
}

describe('subscriptions held by the upstream', () => {
  const registries = registryPerTest();

  it('sends one subscribe for several holders and unsubscribes after the last one', async () => {
    const h = await registries.start([server('res', [MINI, '--resources'])]);
    const up = h.registry.get('team-a', 'res')!;
    const a = {};
    const b = {};
    const before = up.snapshot().requestCount!;
    await up.request('resources/subscribe', { uri: URI }, { subscriber: a });
    await up.request('resources/subscribe', { uri: URI }, { subscriber: b });
    // Only the first holder's subscribe reached the server.
    expect(up.snapshot().requestCount! - before).toBe(1);
    await up.request('resources/unsubscribe', { uri: URI }, { subscriber: a });
    expect(await serverSubs(up)).toEqual([URI]);
    // Unsubscribing a holder twice changes nothing.
    await up.request('resources/unsubscribe', { uri: URI }, { subscriber: a });
    expect(await serverSubs(up)).toEqual([URI]);
    await up.request('resources/unsubscribe', { uri: URI }, { subscriber: b });
    expect(await serverSubs(up)).toEqual([]);
  });

  it('subscribes again after a restart, a crash and a wake from dormancy', async () => {
    const h = await registries.start([server('res', [MINI, '--resources'])], { idleTimeoutMs: 1000, spawnGraceMs: 0 });
    const up = h.registry.get('team-a', 'res')!;
    await up.request('resources/subscribe', { uri: URI }, { subscriber: {} });
    await up.request('resources/subscribe', { uri: 'mini://other' }, { subscriber: {} });
    const both = ['mini://other', URI];
    expect(await serverSubs(up)).toEqual(both);

    const pid1 = up.snapshot().pid;
    await h.registry.restart('team-a', 'res');
    expect(up.snapshot().pid).not.toBe(pid1);
    await waitForSubs(up, both, 'after restart');

    const pid2 = up.snapshot().pid!;
    process.kill(pid2, 'SIGKILL');
    await waitFor(() => up.status === 'online' && up.snapshot().pid !== pid2, 3000, 'back after crash');
    await waitForSubs(up, both, 'after crash');

    expect(up.checkDormancy(Date.now() + 60_000)).toBe(true);
    expect(up.status).toBe('dormant');
    await waitForSubs(up, both, 'after waking');
  });
});

describe('subscriptions of a remote server', () => {
  it('are ref-counted and renewed when the server comes back with a new session', async () => {
    const web = await startMcpHttpServer({ name: 'subs' });
    const up = createRemoteUpstream(remote('subs', web.url), { log: pino({ level: 'silent' }), defaultTimeoutMs: 3000 });
    try {
      const uri = 'res://subs/info';
      const [a, b] = [{}, {}];
      await up.request('resources/subscribe', { uri }, { subscriber: a });
      await up.request('resources/subscribe', { uri }, { subscriber: b });
      await up.request('resources/unsubscribe', { uri }, { subscriber: a });
      expect(web.subscriptionCalls).toEqual([`+${uri}`]);
      // The server restarts and forgets its sessions: the next call reconnects, and the subscription is renewed.
      await web.stop();
      await web.start();
      await up.request('tools/call', { name: 'echo', arguments: { text: 'hi' } }).catch(() => undefined);
      await waitFor(() => web.subscriptionCalls.length === 2, 5000, 'renewed subscription');
      expect(web.subscriptionCalls).toEqual([`+${uri}`, `+${uri}`]);
      await up.request('resources/unsubscribe', { uri }, { subscriber: b });
      expect(web.subscriptionCalls).toEqual([`+${uri}`, `+${uri}`, `-${uri}`]);
    } finally {
      await up.close();
      await web.stop();
    }
  });
});

describe('both routes on one server', () => {
  it('keeps the server subscribed while the team gateway still holds a URI the pass-through released', async () => {
    const { app, base } = await startApp({}, { mini: appServer('team-a', 'mini', [MINI, '--resources']) });
    const clients: Client[] = [];
    const connect = async (path: string, token: string): Promise<Client> => {
      const c = new Client({ name: 'subs-test', version: '1' });
      await c.connect(new StreamableHTTPClientTransport(new URL(`${base}${path}`), { requestInit: { headers: { authorization: `Bearer ${token}` } } }));
      clients.push(c);
      return c;
    };
    try {
      const up = app.servers.get('team-a', 'mini')!;
      const team = await connect('/mcp', TOKEN_A);
      const direct = await connect('/servers/mini/mcp', TOKEN_A_BOB);
      const teamUpdates: string[] = [];
      const directUpdates: string[] = [];
      team.setNotificationHandler(ResourceUpdatedNotificationSchema, (n) => void teamUpdates.push(n.params.uri));
      direct.setNotificationHandler(ResourceUpdatedNotificationSchema, (n) => void directUpdates.push(n.params.uri));

      await team.subscribeResource({ uri: URI });
      await direct.subscribeResource({ uri: URI });
      await direct.unsubscribeResource({ uri: URI });
      // The pass-through let go, the gateway did not: the server must still be subscribed.
      expect(await serverSubs(up)).toEqual([URI]);
      await up.request('tools/call', { name: 'touch', arguments: { uri: URI } });
      await waitFor(() => teamUpdates.length === 1, 3000, 'update through the team gateway');
      expect(directUpdates).toEqual([]);

      await direct.subscribeResource({ uri: URI });
      await team.unsubscribeResource({ uri: URI });
      expect(await serverSubs(up)).toEqual([URI]);
      await direct.unsubscribeResource({ uri: URI });
      expect(await serverSubs(up)).toEqual([]);
    } finally {
      await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
      await app.close();
    }
  });
});
