import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/app';
import { sameIdentity } from '../../src/auth/identity';
import { testConfig } from '../helpers/config';
import { call, mountProbe } from './probe';

const TOKEN_A = 'token-team-a-0123456789abcdef';
const TOKEN_B = 'token-team-b-0123456789abcdef';
const TOKEN_READ = 'token-read-only-0123456789ab';
const TOKEN_HASHED = 'hashed-token-0123456789abcdef';

const teams = { 'team-a': { slug: 'alpha' }, 'team-b': { slug: 'beta' } };
const tokens = {
  [TOKEN_A]: { team_id: 'team-a', user_id: 'alice' },
  [TOKEN_B]: { team_id: 'team-b', user_id: 'bob' },
  [TOKEN_READ]: { team_id: 'team-a', user_id: 'reader', scopes: ['mcp:read'] },
  [`sha256:${createHash('sha256').update(TOKEN_HASHED).digest('hex').toUpperCase()}`]: { team_id: 'team-b', user_id: 'hashed' }
};

describe('static tokens', () => {
  let app: FastifyInstance;
  let base: string;
  beforeAll(async () => {
    app = await buildApp(testConfig({}, { teams, tokens }));
    mountProbe(app);
    base = await app.listen({ port: 0, host: '127.0.0.1' });
  });
  afterAll(() => app.close());

  it('refuses a request without a token: 401, JSON-RPC body, WWW-Authenticate with resource_metadata and scope', async () => {
    for (const method of ['GET', 'POST', 'DELETE']) {
      const res = await call(base, { method, body: method === 'POST' ? { jsonrpc: '2.0', id: 1, method: 'ping' } : undefined });
      expect(res.status).toBe(401);
      expect(res.body).toMatchObject({ jsonrpc: '2.0', id: null, error: { code: -32001 } });
      expect(res.headers.get('www-authenticate')).toBe(`Bearer resource_metadata="${base}/.well-known/oauth-protected-resource", scope="mcp:read mcp:tools:execute"`);
    }
  });

  it('refuses an unknown token with error="invalid_token"', async () => {
    const res = await call(base, { token: 'not-a-configured-token-xyz' });
    expect(res.status).toBe(401);
    expect(res.body.error.code).toBe(-32002);
    expect(res.headers.get('www-authenticate')).toMatch(/^Bearer resource_metadata="[^"]+", scope="mcp:read mcp:tools:execute", error="invalid_token", error_description="[^"]+"$/);
  });

  it('never accepts a token from the query string', async () => {
    const res = await call(base, { path: `/probe?access_token=${TOKEN_A}` });
    expect(res.status).toBe(401);
    const res2 = await call(base, { path: `/probe?token=${TOKEN_A}` });
    expect(res2.status).toBe(401);
  });

  it('rejects non-Bearer schemes as invalid_request', async () => {
    const res = await call(base, { headers: { authorization: `Basic ${Buffer.from('a:b').toString('base64')}` } });
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toContain('error="invalid_request"');
  });

  it('maps a plain and a sha256: token to their team and user, with both scopes by default', async () => {
    const a = await call(base, { token: TOKEN_A });
    expect(a.status).toBe(200);
    expect(a.body.identity).toEqual({ teamId: 'team-a', userId: 'alice', scopes: ['mcp:read', 'mcp:tools:execute'], anonymous: false });
    const h = await call(base, { token: TOKEN_HASHED, method: 'DELETE' });
    expect(h.status).toBe(200);
    expect(h.body.identity).toMatchObject({ teamId: 'team-b', userId: 'hashed' });
    expect(sameIdentity(a.body.identity, h.body.identity)).toBe(false);
    const a2 = await call(base, { token: TOKEN_A, method: 'DELETE' });
    expect(sameIdentity(a.body.identity, a2.body.identity)).toBe(true);
    const b = await call(base, { token: TOKEN_B });
    expect(sameIdentity(a.body.identity, b.body.identity)).toBe(false);
  });

  it('answers 403 insufficient_scope for tools/call with a read-only token, and lets it read', async () => {
    const read = await call(base, { token: TOKEN_READ, body: { jsonrpc: '2.0', id: 7, method: 'tools/list' } });
    expect(read.status).toBe(200);
    const exec = await call(base, { token: TOKEN_READ, body: { jsonrpc: '2.0', id: 8, method: 'tools/call' } });
    expect(exec.status).toBe(403);
    expect(exec.body).toMatchObject({ jsonrpc: '2.0', id: 8, error: { code: -32004, data: { oauth_error: 'insufficient_scope', scopes_required: ['mcp:tools:execute'] } } });
    expect(exec.headers.get('www-authenticate')).toMatch(/^Bearer resource_metadata="[^"]+", scope="mcp:tools:execute", error="insufficient_scope"/);
    const full = await call(base, { token: TOKEN_A, body: { jsonrpc: '2.0', id: 9, method: 'tools/call' } });
    expect(full.status).toBe(200);
  });

  it('follows config reloads: a removed token stops working, a new one starts', async () => {
    const current = app.configStore.current;
    const fresh = 'a-brand-new-token-0123456789';
    app.configStore.replace({ ...current, tokens: { [fresh]: { team_id: 'team-a' } } });
    try {
      expect((await call(base, { token: TOKEN_A })).status).toBe(401);
      expect((await call(base, { token: fresh })).status).toBe(200);
    } finally {
      app.configStore.replace(current);
    }
    expect((await call(base, { token: TOKEN_A })).status).toBe(200);
  });
});

describe('anonymous access', () => {
  it('is granted on loopback when the config says so, and never for proxied requests', async () => {
    const app = await buildApp(testConfig({}, { teams: { 'team-a': teams['team-a']! }, anonymous: { team_id: 'team-a' } }));
    mountProbe(app);
    try {
      const base = await app.listen({ port: 0, host: '127.0.0.1' });
      const res = await call(base);
      expect(res.status).toBe(200);
      expect(res.body.identity).toMatchObject({ teamId: 'team-a', anonymous: true });
      const proxied = await call(base, { headers: { 'x-forwarded-for': '203.0.113.9' } });
      expect(proxied.status).toBe(401);
      const bad = await call(base, { token: 'wrong-token-0123456789abcdef' });
      expect(bad.status).toBe(401);
    } finally {
      await app.close();
    }
  });

  it('is not granted when the config has no anonymous entry', async () => {
    const app = await buildApp(testConfig({}, { teams }));
    mountProbe(app);
    try {
      const base = await app.listen({ port: 0, host: '127.0.0.1' });
      expect((await call(base)).status).toBe(401);
    } finally {
      await app.close();
    }
  });

  it('is not granted when the server is bound beyond loopback', async () => {
    const app = await buildApp(testConfig({ HOST: '0.0.0.0', SATELLITE_ALLOW_INSECURE_BIND: 'true' }, { teams: { 'team-a': teams['team-a']! }, anonymous: { team_id: 'team-a' } }));
    mountProbe(app);
    try {
      const base = await app.listen({ port: 0, host: '127.0.0.1' });
      expect((await call(base)).status).toBe(401);
    } finally {
      await app.close();
    }
  });
});
