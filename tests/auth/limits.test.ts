import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/app';
import { TeamLimits } from '../../src/auth/team-limits';
import { testConfig } from '../helpers/config';
import { until } from './introspection-server';
import { call } from './probe';

const TOKEN_A = 'limits-token-team-a-0123456789';
const TOKEN_B = 'limits-token-team-b-0123456789';
const standalone = {
  teams: { 'team-a': { slug: 'alpha' }, 'team-b': { slug: 'beta' } },
  tokens: { [TOKEN_A]: { team_id: 'team-a' }, [TOKEN_B]: { team_id: 'team-b' } }
};

describe('per-team concurrency limit', () => {
  let app: FastifyInstance;
  let base: string;
  let gate: Promise<void> | undefined;
  let open: () => void = () => undefined;
  beforeAll(async () => {
    app = await buildApp(testConfig({ TEAM_MAX_CONCURRENT_REQUESTS: '1', TEAM_RATE_LIMIT_RPS: '0' }, standalone));
    app.post('/slow', { onRequest: app.authenticateMcp }, async (request) => {
      if (request.identity.teamId === 'team-a' && gate) await gate;
      return { ok: true };
    });
    base = await app.listen({ port: 0, host: '127.0.0.1' });
  });
  afterAll(async () => {
    // Node keeps the aborted client's half-closed socket counted as busy, and Fastify's
    // forceCloseConnections: 'idle' then waits for it forever (plain Fastify does the same).
    app.server.closeAllConnections();
    await app.close();
  });

  const hold = () => {
    gate = new Promise<void>((r) => (open = () => { gate = undefined; r(); }));
  };

  it('refuses a second in-flight request of the same team with 429 and Retry-After, not other teams', async () => {
    hold();
    const first = call(base, { path: '/slow', token: TOKEN_A, body: {} });
    await until(() => app.auth.limits.inFlight('team-a') === 1);
    const second = await call(base, { path: '/slow', token: TOKEN_A, body: {} });
    expect(second.status).toBe(429);
    expect(second.headers.get('retry-after')).toBe('1');
    expect(second.body).toMatchObject({ jsonrpc: '2.0', error: { data: { oauth_error: 'rate_limited' } } });
    expect((await call(base, { path: '/slow', token: TOKEN_B, body: {} })).status).toBe(200);
    open();
    expect((await first).status).toBe(200);
    await until(() => app.auth.limits.inFlight('team-a') === 0);
    expect((await call(base, { path: '/slow', token: TOKEN_A, body: {} })).status).toBe(200);
  });

  it('frees the slot when the client goes away mid-request', async () => {
    hold();
    const ac = new AbortController();
    const aborted = fetch(`${base}/slow`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN_A}`, 'content-type': 'application/json' }, body: '{}', signal: ac.signal }).catch((e: Error) => e);
    await until(() => app.auth.limits.inFlight('team-a') === 1);
    ac.abort();
    expect(await aborted).toBeInstanceOf(Error);
    await until(() => app.auth.limits.inFlight('team-a') === 0);
    open();
  });
});

describe('per-team rate limit', () => {
  it('answers 429 with Retry-After once a team exhausts its burst; other teams are unaffected', async () => {
    const app = await buildApp(testConfig({ TEAM_RATE_LIMIT_RPS: '1', TEAM_RATE_LIMIT_BURST: '2' }, standalone));
    app.get('/probe', { onRequest: app.authenticateMcp }, async () => ({ ok: true }));
    try {
      const base = await app.listen({ port: 0, host: '127.0.0.1' });
      const statuses: number[] = [];
      for (let i = 0; i < 5; i++) statuses.push((await call(base, { token: TOKEN_A })).status);
      expect(statuses.slice(0, 2)).toEqual([200, 200]);
      expect(statuses).toContain(429);
      const limited = await call(base, { token: TOKEN_A });
      expect(limited.status).toBe(429);
      expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      expect((await call(base, { token: TOKEN_B })).status).toBe(200);
      expect(app.auth.stats().rateLimited).toBeGreaterThanOrEqual(2);
    } finally {
      await app.close();
    }
  });
});

describe('TeamLimits token bucket', () => {
  const fakeRequest = { method: 'GET' } as never;
  const fakeReply = { raw: { once: () => undefined } } as never;

  it('refills at the configured rate and never above the burst', () => {
    let now = 0;
    const limits = new TeamLimits({ maxConcurrent: 0, rps: 2, burst: 3 }, () => now);
    const admit = () => limits.admit('t', fakeRequest, fakeReply);
    for (let i = 0; i < 3; i++) expect(admit()).toBeUndefined();
    const refused = admit();
    expect(refused?.retryAfterSeconds).toBe(1);
    now += 500; // one token back at 2 per second
    expect(admit()).toBeUndefined();
    expect(admit()).toBeDefined();
    now += 60_000; // a long pause refills to the burst, not beyond
    for (let i = 0; i < 3; i++) expect(admit()).toBeUndefined();
    expect(admit()).toBeDefined();
    expect(limits.admit('other', fakeRequest, fakeReply)).toBeUndefined();
  });
});
