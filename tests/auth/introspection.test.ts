import { createServer } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/app';
import { testConfig } from '../helpers/config';
import { IntrospectionServer, until } from './introspection-server';
import { call, mountProbe } from './probe';

const nowSec = () => Math.floor(Date.now() / 1000);
const teams = { 'team-a': { slug: 'alpha' }, 'team-b': { slug: 'beta' } };

async function start(env: Record<string, string>): Promise<{ app: FastifyInstance; base: string }> {
  const app = await buildApp(testConfig(env, { teams }));
  mountProbe(app);
  const base = await app.listen({ port: 0, host: '127.0.0.1' });
  return { app, base };
}

describe('RFC 7662 introspection', () => {
  const as = new IntrospectionServer();
  let app: FastifyInstance;
  let base: string;
  beforeAll(async () => {
    const url = await as.start();
    ({ app, base } = await start({ OAUTH_INTROSPECTION_URL: url, OAUTH_CLIENT_ID: 'satellite client', OAUTH_CLIENT_SECRET: 's3cr:et' }));
  });
  afterAll(async () => {
    await app.close();
    await as.stop();
  });
  afterEach(() => {
    as.calls.length = 0;
    as.status = 200;
    app.auth.cache.clear();
  });

  it('authenticates with client_secret_basic and a form body, and maps team, user, scopes and client', async () => {
    as.claims.set('tok-alice', { team_id: 'team-a', sub: 'alice', scope: 'mcp:read mcp:tools:execute', client_id: 'cli-1', exp: nowSec() + 600 });
    const res = await call(base, { token: 'tok-alice' });
    expect(res.status).toBe(200);
    expect(res.body.identity).toEqual({ teamId: 'team-a', userId: 'alice', scopes: ['mcp:read', 'mcp:tools:execute'], anonymous: false, clientId: 'cli-1' });
    expect(as.calls).toHaveLength(1);
    expect(as.calls[0]!.authorization).toBe(`Basic ${Buffer.from('satellite+client:s3cr%3Aet').toString('base64')}`);
    expect(as.calls[0]!.contentType).toBe('application/x-www-form-urlencoded');
    expect(new URLSearchParams(as.calls[0]!.body).get('token_type_hint')).toBe('access_token');
  });

  it('refuses an inactive token with 401 invalid_token', async () => {
    const res = await call(base, { token: 'tok-unknown' });
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toContain('error="invalid_token"');
  });

  it('refuses a token whose exp is in the past even when the server says active', async () => {
    as.claims.set('tok-expired', { team_id: 'team-a', sub: 'alice', scope: 'mcp:read', exp: nowSec() - 5 });
    const res = await call(base, { token: 'tok-expired' });
    expect(res.status).toBe(401);
    expect(res.body.error.message).toMatch(/expired/);
  });

  it('refuses an active token that names no team', async () => {
    as.claims.set('tok-noteam', { sub: 'alice', scope: 'mcp:read' });
    const res = await call(base, { token: 'tok-noteam' });
    expect(res.status).toBe(401);
    expect(res.body.error.message).toMatch(/team/);
  });

  it('answers N requests of one token with one introspection call (cache hits counted)', async () => {
    as.claims.set('tok-hot', { team_id: 'team-a', sub: 'hot', scope: 'mcp:read', exp: nowSec() + 600 });
    const before = app.auth.stats().cache;
    for (let i = 0; i < 10; i++) expect((await call(base, { token: 'tok-hot' })).status).toBe(200);
    expect(as.calls).toHaveLength(1);
    const after = app.auth.stats().cache;
    expect(after.misses - before.misses).toBe(1);
    expect(after.hits - before.hits).toBe(9);
  });

  it('shares one introspection call among concurrent requests of one token (single-flight)', async () => {
    as.claims.set('tok-burst', { team_id: 'team-a', sub: 'burst', scope: 'mcp:read', exp: nowSec() + 600 });
    as.hold();
    const pending = Array.from({ length: 8 }, () => call(base, { token: 'tok-burst' }));
    await until(() => as.calls.length >= 1 && app.auth.stats().cache.shared >= 7);
    as.release();
    const results = await Promise.all(pending);
    expect(results.map((r) => r.status)).toEqual(Array(8).fill(200));
    expect(as.calls).toHaveLength(1);
  });

  it('caches a refusal briefly (negative caching)', async () => {
    for (let i = 0; i < 3; i++) expect((await call(base, { token: 'tok-bad' })).status).toBe(401);
    expect(as.calls).toHaveLength(1);
  });

  it('forgets one user\'s tokens on invalidateUser (the backend command) and on the loopback admin route', async () => {
    as.claims.set('tok-u1', { team_id: 'team-a', sub: 'carol', scope: 'mcp:read', exp: nowSec() + 600 });
    as.claims.set('tok-u2', { team_id: 'team-a', sub: 'carol', scope: 'mcp:read', exp: nowSec() + 600 });
    as.claims.set('tok-other', { team_id: 'team-b', sub: 'dave', scope: 'mcp:read', exp: nowSec() + 600 });
    for (const t of ['tok-u1', 'tok-u2', 'tok-other']) expect((await call(base, { token: t })).status).toBe(200);
    expect(as.calls).toHaveLength(3);
    as.claims.delete('tok-u1');
    expect(app.auth.invalidateUser('carol')).toBe(2);
    expect((await call(base, { token: 'tok-u1' })).status).toBe(401);
    expect((await call(base, { token: 'tok-other' })).status).toBe(200);
    expect(as.calls).toHaveLength(4);

    const admin = await fetch(`${base}/api/auth/cache/invalidate`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ user_id: 'dave' }) });
    expect(admin.status).toBe(200);
    expect(await admin.json()).toEqual({ user_id: 'dave', invalidated: 1 });
    const proxied = await fetch(`${base}/api/auth/cache/invalidate`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-forwarded-for': '198.51.100.7' }, body: '{}' });
    expect(proxied.status).toBe(403);
    for (const body of [{ user_id: '' }, { userid: 'dave' }, {}]) {
      const bad = await fetch(`${base}/api/auth/cache/invalidate`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      expect(bad.status).toBe(400);
    }
    expect((await call(base, { token: 'tok-u2' })).status).toBe(200);
    expect(as.calls).toHaveLength(5);
    const all = await fetch(`${base}/api/auth/cache/invalidate`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ all: true }) });
    expect(await all.json()).toEqual({ invalidated: 2 });
  });

  it('answers 503 with Retry-After (never 500) when the authorization server fails, and caches nothing', async () => {
    as.claims.set('tok-flaky', { team_id: 'team-a', sub: 'flaky', scope: 'mcp:read', exp: nowSec() + 600 });
    as.status = 500;
    const res = await call(base, { token: 'tok-flaky' });
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(res.body).toMatchObject({ jsonrpc: '2.0', id: null, error: { data: { oauth_error: 'unavailable' } } });
    expect(res.body.error.message).toMatch(/introspection is unavailable.*500/);
    as.status = 200;
    expect((await call(base, { token: 'tok-flaky' })).status).toBe(200);
    expect(as.calls).toHaveLength(2);
  });

  it('does not send the token anywhere but the introspection endpoint, and not in a log-visible URL', async () => {
    as.claims.set('tok-private', { team_id: 'team-a', sub: 'p', scope: 'mcp:read', exp: nowSec() + 600 });
    await call(base, { token: 'tok-private' });
    expect(as.calls[0]!.authorization).not.toContain('tok-private');
    expect(as.calls[0]!.token).toBe('tok-private');
  });
});

describe('introspection endpoint down or slow', () => {
  it('answers 503 when nothing listens at the endpoint', async () => {
    const probe = createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    const port = (probe.address() as { port: number }).port;
    await new Promise<void>((r) => probe.close(() => r()));
    const { app, base } = await start({ OAUTH_INTROSPECTION_URL: `http://127.0.0.1:${port}/introspect`, OAUTH_CLIENT_ID: 'c', OAUTH_CLIENT_SECRET: 's' });
    try {
      const res = await call(base, { token: 'any-token' });
      expect(res.status).toBe(503);
      expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
      expect(res.body.error.message).toMatch(/could not be reached/);
    } finally {
      await app.close();
    }
  });

  it('answers 503 when the endpoint does not answer within OAUTH_INTROSPECTION_TIMEOUT_MS', async () => {
    const as = new IntrospectionServer();
    const url = await as.start();
    as.hold();
    const { app, base } = await start({ OAUTH_INTROSPECTION_URL: url, OAUTH_CLIENT_ID: 'c', OAUTH_CLIENT_SECRET: 's', OAUTH_INTROSPECTION_TIMEOUT_MS: '200' });
    try {
      const res = await call(base, { token: 'slow-token' });
      expect(res.status).toBe(503);
      expect(res.body.error.message).toMatch(/timeout|could not be reached/);
    } finally {
      await app.close();
      await as.stop();
    }
  });

  it('refuses to start with an introspection URL but no client credentials', async () => {
    await expect(buildApp(testConfig({ OAUTH_INTROSPECTION_URL: 'http://127.0.0.1:9/introspect' }))).rejects.toThrow(/OAUTH_CLIENT_ID and OAUTH_CLIENT_SECRET/);
  });
});

describe('audience and team claim settings', () => {
  const as = new IntrospectionServer();
  let app: FastifyInstance;
  let base: string;
  beforeAll(async () => {
    const url = await as.start();
    ({ app, base } = await start({ OAUTH_INTROSPECTION_URL: url, OAUTH_CLIENT_ID: 'c', OAUTH_CLIENT_SECRET: 's', OAUTH_AUDIENCE: 'https://sat.example/mcp', OAUTH_TEAM_CLAIM: 'org' }));
  });
  afterAll(async () => {
    await app.close();
    await as.stop();
  });

  it('accepts a token for this resource (aud as array) naming the team in the configured claim', async () => {
    as.claims.set('tok-aud', { org: 'team-b', sub: 'erin', scope: 'mcp:read', aud: ['other', 'https://sat.example/mcp'] });
    const res = await call(base, { token: 'tok-aud' });
    expect(res.status).toBe(200);
    expect(res.body.identity).toMatchObject({ teamId: 'team-b', userId: 'erin' });
  });

  it('refuses a token issued for another resource', async () => {
    as.claims.set('tok-elsewhere', { org: 'team-b', sub: 'erin', scope: 'mcp:read', aud: 'https://other.example/mcp' });
    const res = await call(base, { token: 'tok-elsewhere' });
    expect(res.status).toBe(401);
    expect(res.body.error.message).toMatch(/not issued for this resource/);
  });
});
