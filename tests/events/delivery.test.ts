import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/app';
import { testConfig } from '../helpers/config';
import { FakeBackend } from '../fake-backend/server';
import { backendEnv, newToken, startSatellite, tempDir, waitFor, withBackend } from '../backend/helpers';

const activity = (n: number) => ({ team_id: 'team-a', request_count: n, tool_call_count: 0, last_activity_at: new Date().toISOString() });
const logEvent = (n: number) => ({ installation_id: 'inst-a', team_id: 'team-a', logs: [{ level: 'info' as const, message: `poison ${n}`, timestamp: new Date().toISOString() }] });
const numbers = (fake: FakeBackend) => fake.events.filter((e) => e.type === 'mcp.client.activity').map((e) => e.data.request_count as number);

describe('event delivery to the backend', () => {
  const fake = new FakeBackend();
  const tmp = tempDir();
  let app: FastifyInstance;
  beforeAll(async () => {
    await fake.start();
    app = await startSatellite(backendEnv(fake, tmp.dir, newToken(fake), { EVENT_MAX_BATCH_SIZE: '10' }));
    await waitFor('connection', () => app.backend?.state === 'connected');
  });
  afterAll(async () => {
    await app.close();
    await fake.stop();
    tmp.cleanup();
  });

  it('sends events in batches of at most EVENT_MAX_BATCH_SIZE with the backend envelope', async () => {
    fake.events.length = 0;
    for (let n = 0; n < 25; n++) app.events.emit('mcp.client.activity', activity(n));
    await waitFor('25 events', () => fake.events.length === 25);
    expect(numbers(fake)).toEqual([...Array(25).keys()]);
    expect(Math.max(...fake.eventPosts.map((p) => p.count))).toBeLessThanOrEqual(10);
    expect(Object.keys(fake.events[0]!).sort()).toEqual(['data', 'timestamp', 'type']);
    // Delivery is driven by the job scheduler, visible with the other jobs.
    expect(app.jobs.list().find((j) => j.name === 'event-flush')).toMatchObject({ schedule: expect.stringContaining('100') });
    expect(app.jobs.list().map((j) => j.name)).toEqual(expect.arrayContaining(['backend-heartbeat', 'backend-config-check']));
  });

  it('delivers every event exactly once and in order across a 3 s backend outage', async () => {
    fake.events.length = 0;
    let n = 0;
    const emitSome = async (count: number) => {
      for (let i = 0; i < count; i++) {
        app.events.emit('mcp.client.activity', activity(n++));
        await new Promise((r) => setTimeout(r, 10));
      }
    };
    await emitSome(30);
    await fake.stop();
    const outageEnd = Date.now() + 3_000;
    while (Date.now() < outageEnd) await emitSome(10);
    await fake.start();
    await emitSome(20);
    await waitFor(`all ${n} events`, () => fake.events.length >= n, 10_000);
    await new Promise((r) => setTimeout(r, 300)); // a duplicate would arrive now
    expect(numbers(fake)).toEqual([...Array(n).keys()]);
  });

  it('waits on 429 with Retry-After, then delivers', async () => {
    fake.events.length = 0;
    fake.fail('events', { status: 429, retryAfter: '1' }, 1);
    const started = Date.now();
    for (let n = 0; n < 5; n++) app.events.emit('mcp.client.activity', activity(n));
    await waitFor('events after the rate limit', () => fake.events.length === 5, 5_000);
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    expect(numbers(fake)).toEqual([0, 1, 2, 3, 4]);
  });

  it('drops only the events of a type the backend refuses with a whole-batch 400; the others arrive in order', async () => {
    fake.events.length = 0;
    fake.rejectEventTypes.add('mcp.server.logs');
    try {
      for (let n = 0; n < 30; n++) {
        if (n % 7 === 3) app.events.emit('mcp.server.logs', logEvent(n));
        else app.events.emit('mcp.client.activity', activity(n));
      }
      const expected = [...Array(30).keys()].filter((n) => n % 7 !== 3);
      await waitFor('the healthy events', () => numbers(fake).length === expected.length, 8_000);
      expect(numbers(fake)).toEqual(expected);
      await waitFor('an empty queue', () => app.events.sink!.size === 0);
    } finally {
      fake.rejectEventTypes.clear();
    }
  });

  it('drops only the events listed in a partial-failure answer', async () => {
    fake.events.length = 0;
    fake.failEventTypes.add('mcp.server.logs');
    try {
      app.events.emit('mcp.client.activity', activity(1));
      app.events.emit('mcp.server.logs', logEvent(2));
      app.events.emit('mcp.client.activity', activity(3));
      await waitFor('an empty queue', () => app.events.sink!.size === 0);
      expect(numbers(fake)).toEqual([1, 3]);
    } finally {
      fake.failEventTypes.clear();
    }
  });

  it('treats a garbage 5xx as transient and keeps the events', async () => {
    fake.events.length = 0;
    fake.fail('events', { status: 502, body: '<html>bad gateway' }, 2);
    app.events.emit('mcp.client.activity', activity(42));
    await waitFor('the event after two failed posts', () => fake.events.length === 1, 5_000);
    expect(numbers(fake)).toEqual([42]);
  });

  it('never has two posts in flight (a slow backend does not cause a double send)', async () => {
    fake.events.length = 0;
    fake.fail('events', { delayMs: 600 }, 1);
    for (let n = 0; n < 3; n++) app.events.emit('mcp.client.activity', activity(n));
    await waitFor('3 events', () => fake.events.length === 3, 5_000);
    await new Promise((r) => setTimeout(r, 300));
    expect(numbers(fake)).toEqual([0, 1, 2]);
  });
});

describe('events across a restart', () => {
  it('keeps events emitted while the backend is down on disk and delivers them after a restart, once', async () => {
    await withBackend(async ({ fake, dir, apps }) => {
      let app: FastifyInstance | undefined;
      const track = (a: FastifyInstance) => (apps.push(a), a);
      const env = backendEnv(fake, dir, newToken(fake), { EVENT_FLUSH_TIMEOUT_MS: '300' });
      app = track(await startSatellite(env));
      await waitFor('connection', () => app!.backend?.state === 'connected');
      for (let n = 0; n < 5; n++) app.events.emit('mcp.client.activity', activity(n));
      await waitFor('first five', () => fake.events.length === 5);
      await fake.stop();
      for (let n = 5; n < 15; n++) app.events.emit('mcp.client.activity', activity(n));
      await app.close();
      app = undefined;

      await fake.start();
      app = track(await startSatellite(env));
      await waitFor('all fifteen', () => fake.events.length >= 15, 8_000);
      await new Promise((r) => setTimeout(r, 300));
      expect(numbers(fake)).toEqual([...Array(15).keys()]);
    });
  });

  it('flushes queued events on shutdown', async () => {
    await withBackend(async ({ fake, dir }) => {
      // A long batch interval: only the shutdown flush can deliver these in time.
      const app = await buildApp(testConfig(backendEnv(fake, dir, newToken(fake), { EVENT_BATCH_INTERVAL_MS: '600000' })));
      // A component closing after the backend plugin still gets its last event out.
      app.addHook('onClose', async () => void app.events.emit('mcp.client.activity', activity(250)));
      await app.listen({ port: 0, host: '127.0.0.1' });
      await waitFor('connection', () => app.backend?.state === 'connected');
      for (let n = 0; n < 250; n++) app.events.emit('mcp.client.activity', activity(n));
      await app.close();
      expect(numbers(fake)).toEqual([...Array(251).keys()]);
    });
  });
});

describe('standalone mode', () => {
  it('has an event bus for local subscribers and sends nothing', async () => {
    const app = await buildApp(testConfig());
    try {
      await app.ready();
      expect(app.backend).toBeNull();
      expect(app.events.sink).toBeUndefined();
      expect((await app.inject({ method: 'GET', url: '/api/status/backend' })).json()).toEqual({ mode: 'standalone', connection_status: 'not_configured', pending_events: 0 });
      const seen: string[] = [];
      app.events.onAny((e) => seen.push(e.type));
      app.events.emit('mcp.client.connected', { session_id: 's', team_id: 't', transport: 'streamable-http' });
      expect(seen).toEqual(['mcp.client.connected']);
    } finally {
      await app.close();
    }
  });
});
