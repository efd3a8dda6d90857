import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { buildApp } from '../../src/app';
import type { McpServerConfig } from '../../src/config/server-config';
import type { ClientIdentity } from '../../src/mcp/session-contract';
import configPlugin from '../../src/plugins/config';
import jobsPlugin from '../../src/plugins/jobs';
import statusRoutes from '../../src/routes/status';
import readinessPlugin from '../../src/routes/status-ready';
import { testConfig } from '../helpers/config';
import { backendEnv, newToken, tempDir, waitFor } from '../backend/helpers';
import { FakeBackend } from '../fake-backend/server';

const TOKEN_A = 'tok-alpha-0123456789abcdef0123456789';
const TOKEN_B = 'tok-bravo-0123456789abcdef0123456789';

const server = (team: string, slug: string, extra: Partial<McpServerConfig> = {}): McpServerConfig => ({
  installation_id: `inst-${team}-${slug}`, team_id: team, team_slug: team === 'team-a' ? 'alpha' : 'bravo', server_slug: slug,
  installation_name: `${slug} of ${team}`, transport_type: 'stdio', command: 'node', args: ['--secret-arg=s3cr3t-arg'],
  env: { API_KEY: 'env-s3cr3t' }, enabled: true, ...extra
});

const standalone = {
  teams: { 'team-a': { slug: 'alpha', name: 'Team A' }, 'team-b': { slug: 'bravo' } },
  tokens: {
    [TOKEN_A]: { team_id: 'team-a', user_id: 'alice', scopes: ['mcp:read'] },
    [TOKEN_B]: { team_id: 'team-b', user_id: 'bob', scopes: ['mcp:read'] }
  },
  mcp_servers: {
    a1: server('team-a', 'memory'),
    a2: server('team-a', 'search', { transport_type: 'http', command: undefined, args: undefined, env: undefined, url: 'https://search.example/mcp?api_key=url-s3cr3t', headers: { Authorization: 'Bearer hdr-s3cr3t' } }),
    a3: server('team-a', 'private', { user_id: 'carol' }),
    a4: server('team-a', 'off', { enabled: false }),
    b1: server('team-b', 'memory')
  }
};
const SECRETS = ['s3cr3t-arg', 'env-s3cr3t', 'url-s3cr3t', 'hdr-s3cr3t', 'search.example', 'team-b', 'carol', 'node'];

describe('status routes in the full app (real auth)', () => {
  let app: FastifyInstance;
  let base: string;
  const get = (path: string, token?: string) => fetch(`${base}${path}`, token ? { headers: { authorization: `Bearer ${token}` } } : {});

  beforeAll(async () => {
    app = await buildApp(testConfig({}, standalone));
    base = await app.listen({ port: 0, host: '127.0.0.1' });
  });
  afterAll(() => app.close());

  it('GET /ready answers 200 with its checks in standalone mode', async () => {
    const res = await get('/ready');
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ready', checks: expect.arrayContaining([{ name: 'config', ok: true }]) });
  });

  it('GET /api/status/team refuses callers without a valid token', async () => {
    expect((await get('/api/status/team')).status).toBe(401);
    const forged = await get('/api/status/team', 'tok-forged-00000000000000000000000');
    expect(forged.status).toBe(401);
    expect(forged.headers.get('www-authenticate')).toMatch(/^Bearer /);
  });

  it("shows the caller's own team only, and no command, args, env, headers or URLs", async () => {
    const res = await get('/api/status/team', TOKEN_A);
    expect(res.status).toBe(200);
    const text = await res.text();
    for (const secret of SECRETS) expect(text).not.toContain(secret);
    const body = JSON.parse(text);
    expect(body.team).toEqual({ id: 'team-a', slug: 'alpha', name: 'Team A' });
    expect(body.servers.map((s: { slug: string }) => s.slug)).toEqual(['memory', 'off', 'search']);
    const memory = body.servers.find((s: { slug: string }) => s.slug === 'memory');
    expect(Object.keys(memory).sort()).toEqual(expect.arrayContaining(['enabled', 'name', 'restarts', 'slug', 'status', 'transport']));
    for (const key of Object.keys(memory)) expect(['slug', 'name', 'transport', 'enabled', 'status', 'pid', 'uptimeSeconds', 'restarts', 'toolsCount']).toContain(key);
    expect(body.servers.find((s: { slug: string }) => s.slug === 'off')).toMatchObject({ enabled: false, status: 'disabled' });
  });

  it('shows team B its own server and nothing of team A', async () => {
    const body = (await (await get('/api/status/team', TOKEN_B)).json()) as any;
    expect(body.team.id).toBe('team-b');
    expect(body.servers).toHaveLength(1);
    expect(body.servers[0]).toMatchObject({ slug: 'memory', name: 'memory of team-b' });
  });

  it('GET /api/status/jobs needs authentication and lists job status', async () => {
    expect((await get('/api/status/jobs')).status).toBe(401);
    app.jobs.register({ name: 'status-probe', schedule: { cron: '0 0 1 1 *' }, timeoutMs: 1_000, run: () => { throw new Error('probe failed: https://x.example/?token=zzz'); } });
    expect(await app.jobs.runNow('status-probe')).toBe('failure');
    const res = await get('/api/status/jobs', TOKEN_A);
    expect(res.status).toBe(200);
    const { jobs } = (await res.json()) as any;
    const probe = jobs.find((j: { name: string }) => j.name === 'status-probe');
    expect(probe).toMatchObject({ schedule: 'cron 0 0 1 1 *', timeoutMs: 1000, running: false, runs: 1, failures: 1, skipped: 0, lastError: 'probe failed: https://x.example/?token=[Redacted]' });
    expect(Date.parse(probe.lastRunAt)).not.toBeNaN();
    expect(typeof probe.lastDurationMs).toBe('number');
  });

  it('documents the routes with response schemas', async () => {
    const doc = (await (await get('/documentation/json')).json()) as any;
    for (const path of ['/ready', '/api/status/team', '/api/status/jobs', '/metrics']) expect(doc.paths[path]?.get, path).toBeDefined();
    expect(doc.paths['/api/status/team'].get.responses['200']).toBeDefined();
  });
});

describe('status routes with a live server registry', () => {
  let app: FastifyInstance;
  // A test authenticator (header x-test-team) and a registry stand-in returning snapshots of two
  // teams, one carrying fields a snapshot must never pass on.
  const authenticate = async (request: FastifyRequest, reply: FastifyReply) => {
    const team = request.headers['x-test-team'];
    if (typeof team !== 'string') return reply.code(401).send({ error: 'Unauthorized', message: 'no test identity' });
    (request as FastifyRequest & { identity: ClientIdentity }).identity = { teamId: team, userId: 'alice', scopes: [], anonymous: false };
  };
  beforeAll(async () => {
    app = Fastify();
    await app.register(configPlugin, { config: testConfig({}, standalone) });
    const decorate = app.decorate.bind(app) as unknown as (name: string, value: unknown) => void;
    decorate('servers', {
      list: (teamId?: string) => [
        { teamId: 'team-a', serverSlug: 'memory', status: 'online', pid: 4242, uptimeSeconds: 61.4, restarts: 2, toolsCount: 9, command: 'node', env: { API_KEY: 'env-s3cr3t' } },
        { teamId: 'team-a', serverSlug: 'private', userId: 'carol', status: 'online', pid: 4243, restarts: 0 },
        { teamId: 'team-b', serverSlug: 'memory', status: 'error', pid: 5151, restarts: 7 }
      ].filter((s) => teamId === undefined || s.teamId === teamId)
    });
    decorate('teamGateway', {
      toolCounts: (teamId: string) => (teamId === 'team-a' ? [{ serverSlug: 'search', tools: 4 }, { serverSlug: 'private', userId: 'carol', tools: 3 }] : [{ serverSlug: 'memory', tools: 99 }])
    });
    await app.register(readinessPlugin);
    await app.register(jobsPlugin);
    await app.register(statusRoutes, { authenticate });
    await app.ready();
  });
  afterAll(() => app.close());

  it('overlays live state on the configured servers of the caller only', async () => {
    const res = await app.inject({ method: 'GET', url: '/api/status/team', headers: { 'x-test-team': 'team-a' } });
    expect(res.statusCode).toBe(200);
    expect(res.body).not.toContain('env-s3cr3t');
    expect(res.body).not.toContain('5151');
    expect(res.body).not.toContain('4243');
    const memory = res.json().servers.find((s: { slug: string }) => s.slug === 'memory');
    expect(memory).toEqual({ slug: 'memory', name: 'memory of team-a', transport: 'stdio', enabled: true, status: 'online', pid: 4242, uptimeSeconds: 61, restarts: 2, toolsCount: 9 });
    // A remote server's tool count comes from the gateway's discovery cache.
    expect(res.json().servers.find((s: { slug: string }) => s.slug === 'search')).toMatchObject({ status: 'not_started', restarts: 0, toolsCount: 4 });
    expect(res.json().servers.map((s: { slug: string }) => s.slug)).not.toContain('private');
  });

  it('answers 401 when the authenticator sets no identity', async () => {
    expect((await app.inject({ method: 'GET', url: '/api/status/team' })).statusCode).toBe(401);
  });
});

describe('readiness', () => {
  it('is 503 with the reasons when a check fails, throws or hangs', async () => {
    const app = Fastify();
    await app.register(configPlugin, { config: testConfig() });
    await app.register(readinessPlugin, { checkTimeoutMs: 200 });
    await app.register(statusRoutes);
    app.readiness.add('disk', () => 'data directory not writable');
    app.readiness.add('throws', () => { throw new Error('probe crashed'); });
    app.readiness.add('hangs', () => new Promise<undefined>(() => undefined));
    app.readiness.add('fine', async () => undefined);
    try {
      const res = await app.inject({ method: 'GET', url: '/ready' });
      expect(res.statusCode).toBe(503);
      expect(res.json()).toEqual({
        status: 'not_ready',
        checks: [
          { name: 'config', ok: true },
          { name: 'disk', ok: false, reason: 'data directory not writable' },
          { name: 'throws', ok: false, reason: 'probe crashed' },
          { name: 'hangs', ok: false, reason: 'check did not answer within 200 ms' },
          { name: 'fine', ok: true }
        ]
      });
    } finally {
      await app.close();
    }
  });

  it('fails closed on the authenticated routes when no authenticator exists', async () => {
    const app = Fastify();
    await app.register(configPlugin, { config: testConfig() });
    await app.register(readinessPlugin);
    await app.register(statusRoutes);
    try {
      const res = await app.inject({ method: 'GET', url: '/api/status/jobs' });
      expect(res.statusCode).toBe(503);
      expect(res.json()).toEqual({ error: 'Service Unavailable', message: 'authentication is not configured' });
    } finally {
      await app.close();
    }
  });

  it('is not ready in backend mode while the backend cannot be reached', async () => {
    const app = await buildApp(testConfig({
      DEPLOYSTACK_BACKEND_URL: 'http://127.0.0.1:9',
      DEPLOYSTACK_SATELLITE_NAME: 'ops-ready-test',
      DEPLOYSTACK_REGISTRATION_TOKEN: 'deploystack_satellite_global_0123456789abcdef',
      SATELLITE_DATA_DIR: `${process.env.TMPDIR ?? '/tmp'}/satellite-ready-${process.pid}`,
      DEPLOYSTACK_CREDENTIALS_FILE: `${process.env.TMPDIR ?? '/tmp'}/satellite-ready-${process.pid}/key.json`
    }));
    try {
      await app.ready();
      const res = await app.inject({ method: 'GET', url: '/ready' });
      expect(res.statusCode).toBe(503);
      const body = res.json();
      expect(body.status).toBe('not_ready');
      expect(body.checks).toEqual(expect.arrayContaining([expect.objectContaining({ name: 'backend', ok: false, reason: expect.any(String) })]));
    } finally {
      await app.close();
    }
  });

  it('turns ready once the backend link is connected, and not ready when a heartbeat fails', async () => {
    const fake = new FakeBackend();
    await fake.start();
    const { dir, cleanup } = tempDir();
    const app = await buildApp(testConfig(backendEnv(fake, dir, newToken(fake))));
    try {
      await app.listen({ port: 0, host: '127.0.0.1' });
      let last: { statusCode: number; body: string } = { statusCode: 0, body: '' };
      const poll = async () => (last = await app.inject({ method: 'GET', url: '/ready' }));
      for (let i = 0; i < 100 && (await poll()).statusCode !== 200; i++) await new Promise((r) => setTimeout(r, 50));
      expect(last.statusCode, last.body).toBe(200);
      expect(JSON.parse(last.body).checks).toEqual(expect.arrayContaining([{ name: 'backend', ok: true }]));
      fake.fail('heartbeat', { status: 500 }, 1);
      expect(await app.jobs.runNow('backend-heartbeat')).toBe('failure');
      await waitFor('the heartbeat failure to be recorded', () => app.jobs.list().some((j) => j.name === 'backend-heartbeat' && j.lastError !== undefined), 2_000);
      await poll();
      expect(last.statusCode).toBe(503);
      expect(JSON.parse(last.body).checks).toEqual(expect.arrayContaining([{ name: 'backend', ok: false, reason: 'the last heartbeat to the backend failed' }]));
      expect(await app.jobs.runNow('backend-heartbeat')).toBe('success');
      expect((await poll()).statusCode).toBe(200);
    } finally {
      await app.close();
      await fake.stop();
      cleanup();
    }
  });
});
