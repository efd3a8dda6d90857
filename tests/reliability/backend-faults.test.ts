// The control plane misbehaving (garbage, slow, down) and the event spill disk full: the satellite
// keeps serving MCP clients, says what is wrong on /ready, and delivers the events it kept.
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app';
import { testConfig } from '../helpers/config';
import type { FakeBackend } from '../fake-backend/server';
import { backendEnv, newToken, waitFor, withBackend } from '../backend/helpers';
import { headers, openSession } from '../transports/helpers';
import { serveMiniToTeamA } from './backend-config';

const CLIENT_TOKEN = 'reliability-client-token-0123456789';
const activity = (n: number) => ({ team_id: 'team-a', request_count: n, tool_call_count: 0, last_activity_at: new Date().toISOString() });
const numbers = (fake: FakeBackend) => fake.events.filter((e) => e.type === 'mcp.client.activity').map((e) => e.data.request_count as number);

async function start(fake: FakeBackend, dir: string, extra: Record<string, string> = {}, logs: string[] = []): Promise<{ app: FastifyInstance; base: string }> {
  const app = await buildApp(testConfig(backendEnv(fake, dir, newToken(fake), { MCP_REQUEST_TIMEOUT_MS: '3000', ...extra })), {
    logStream: { write: (line: string) => void logs.push(line) }
  });
  const base = await app.listen({ port: 0, host: '127.0.0.1' });
  await waitFor('connection', () => app.backend?.state === 'connected', 8_000);
  await waitFor('mini configured', () => app.servers.get('team-a', 'mini') !== undefined, 8_000);
  return { app, base };
}

let nextId = 1;
/** An echo through the MCP endpoint: proves the satellite still serves clients. */
async function echo(base: string, sid: string, value: number): Promise<unknown> {
  const res = await fetch(`${base}/servers/mini/mcp`, {
    method: 'POST', headers: headers(CLIENT_TOKEN, { 'mcp-session-id': sid }),
    body: JSON.stringify({ jsonrpc: '2.0', id: nextId++, method: 'tools/call', params: { name: 'echo', arguments: { value } } }),
    signal: AbortSignal.timeout(5_000)
  });
  return ((await res.json()) as { result: { structuredContent: unknown } }).result.structuredContent;
}

/** Flushes past the sender's backoff until `count` activity events arrived (bounded). */
async function drain(app: FastifyInstance, fake: FakeBackend, count: number): Promise<void> {
  for (let i = 0; i < 100 && numbers(fake).length < count; i++) {
    await app.backend!.sender!.flush({ ignoreBackoff: true });
    await new Promise((r) => setTimeout(r, 50));
  }
  expect(numbers(fake).length, JSON.stringify(numbers(fake))).toBeGreaterThanOrEqual(count);
}

async function ready(base: string): Promise<{ status: number; checks: Array<{ name: string; ok: boolean; reason?: string }> }> {
  const res = await fetch(`${base}/ready`);
  return { status: res.status, checks: ((await res.json()) as { checks: Array<{ name: string; ok: boolean; reason?: string }> }).checks };
}

describe('backend faults', () => {
  it('garbage, slow answers and an outage never stop MCP clients; every event arrives afterwards, in order', async () => {
    await withBackend(async ({ fake, dir, apps }) => {
      serveMiniToTeamA(fake, CLIENT_TOKEN);
      const { app, base } = await start(fake, dir, { EVENT_BATCH_INTERVAL_MS: '100' });
      apps.push(app);
      const sid = await openSession(`${base}/servers/mini/mcp`, CLIENT_TOKEN);
      let n = 0;
      const phase = async (what: string) => {
        for (let i = 0; i < 5; i++) {
          app.events.emit('mcp.client.activity', activity(n++));
          expect(await echo(base, sid, n), what).toEqual({ echo: { value: n } });
        }
        expect((await fetch(`${base}/`)).status, what).toBe(200);
      };

      await phase('healthy');
      // Garbage: HTML with a 200 on the control routes, a 502 with an HTML body on events (a 200
      // there means "accepted", whatever the body says).
      for (const route of ['heartbeat', 'config', 'commands'] as const) fake.fail(route, { garbage: true });
      fake.fail('events', { status: 502, body: '<html>bad gateway</html>' });
      await app.backend!.syncConfig().catch(() => undefined);
      await app.backend!.sendHeartbeat().catch(() => undefined);
      await phase('garbage');
      fake.clearFailure();
      for (const route of ['events', 'heartbeat', 'config', 'commands'] as const) fake.fail(route, { delayMs: 2_500 });
      const slowSync = app.backend!.syncConfig().catch(() => undefined);
      await phase('slow');
      await slowSync;
      fake.clearFailure();
      await fake.stop();
      await app.backend!.syncConfig().catch(() => undefined);
      await phase('down');
      // The server from the last good config is still there.
      expect(app.servers.get('team-a', 'mini')).toBeDefined();

      await fake.start();
      // The sender backs off (doubling, up to a minute) after this many failures: skip the wait.
      await drain(app, fake, n);
      // At least once, in order of first arrival: a slow answer cut by the outage may be resent.
      expect([...new Set(numbers(fake))]).toEqual([...Array(n).keys()]);
    });
  }, 30_000);

  // Mounting a tmpfs needs root (CI runs as root).
  it.runIf(process.getuid?.() === 0)('a full disk under the event spill: keeps serving, reports it on /ready, keeps the events and delivers them once space is back', async () => {
    await withBackend(async ({ fake, dir, apps }) => {
      serveMiniToTeamA(fake, CLIENT_TOKEN);
      // SATELLITE_DATA_DIR/events on a 64 KB tmpfs that a filler then fills up.
      const data = join(dir, 'data');
      const spill = join(data, 'events');
      mkdirSync(spill, { recursive: true });
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k,mode=0700', 'tmpfs', spill]);
      const logs: string[] = [];
      try {
        const { app, base } = await start(fake, dir, { EVENT_BATCH_INTERVAL_MS: '100', LOG_LEVEL: 'warn' }, logs);
        apps.push(app);
        const sid = await openSession(`${base}/servers/mini/mcp`, CLIENT_TOKEN);
        await fake.stop();
        const filler = join(spill, 'filler');
        try {
          writeFileSync(filler, Buffer.alloc(128 * 1024));
        } catch {
          // ENOSPC once the tmpfs is full: that is the point
        }
        const big = 'e'.repeat(2_000);
        for (let n = 0; n < 100; n++) app.events.emit('mcp.client.activity', { ...activity(n), note: big });
        await waitFor('the journal write to fail', () => logs.some((l) => l.includes('cannot write the event journal')), 3_000).catch((err: Error) => {
          throw new Error(`${err.message}\n${logs.join('').slice(-2000)}\n${execFileSync('df', [spill]).toString()}`);
        });
        expect(await echo(base, sid, 1)).toEqual({ echo: { value: 1 } });
        const r = await ready(base);
        expect(r.status).toBe(503);
        expect(r.checks.find((c) => c.name === 'event-journal')).toMatchObject({ ok: false, reason: expect.stringMatching(/disk full/) });

        rmSync(filler);
        await fake.start();
        await drain(app, fake, 100);
        expect(numbers(fake)).toEqual([...Array(100).keys()]);
        app.events.emit('mcp.client.activity', activity(100));
        await waitFor('event 100', () => numbers(fake).includes(100), 5_000);
        expect((await ready(base)).checks.find((c) => c.name === 'event-journal')).toMatchObject({ ok: true });
      } finally {
        for (const app of apps.splice(0)) await app.close();
        execFileSync('umount', ['-l', spill]);
      }
    });
  }, 30_000);
});
