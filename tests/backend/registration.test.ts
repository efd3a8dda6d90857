import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/app';
import { VERSION } from '../../src/version';
import { testConfig } from '../helpers/config';
import { FakeBackend } from '../fake-backend/server';
import { backendEnv, newToken, SAT_NAME, startSatellite, startWithLogs, stdioServer, tempDir, waitFor, withBackend } from './helpers';

describe('registration and credentials', () => {
  const fake = new FakeBackend();
  const tmp = tempDir();
  let app: FastifyInstance | undefined;
  beforeAll(async () => {
    await fake.start();
  });
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });
  afterAll(async () => {
    await fake.stop();
    tmp.cleanup();
  });
  const keyFile = join(tmp.dir, 'creds', 'backend.key.json');

  it('registers with the token, persists the key with mode 0600 and sends satellite_url on the first heartbeat', async () => {
    app = await startSatellite(backendEnv(fake, tmp.dir, newToken(fake)));
    await waitFor('connection', () => app!.backend?.state === 'connected');
    expect(fake.registrations).toHaveLength(1);
    expect(fake.registrations[0]).toMatchObject({ name: SAT_NAME, capabilities: ['stdio', 'http', 'sse'] });
    expect(fake.registrations[0].system_info.memory_mb).toBeGreaterThan(0);
    const saved = JSON.parse(readFileSync(keyFile, 'utf8'));
    expect(saved).toMatchObject({ api_key: fake.apiKey, satellite_id: fake.satelliteId, satellite_name: SAT_NAME });
    expect(statSync(keyFile).mode & 0o777).toBe(0o600);
    expect(fake.heartbeats[0]).toMatchObject({ status: 'active', version: VERSION, satellite_url: 'https://sat.example.test' });
    const status = await app.inject({ method: 'GET', url: '/api/status/backend' });
    expect(status.json()).toMatchObject({ mode: 'backend', connection_status: 'connected', registered: true, last_heartbeat_at: expect.any(String), pending_events: expect.any(Number) });
    expect(status.body).not.toContain(fake.apiKey!);
    expect(status.body).not.toContain(fake.url);
    await app.backend!.sendHeartbeat();
    expect(fake.heartbeats.at(-1)!.satellite_url).toBeUndefined();
    // The key never shows up in a request except as the bearer.
    const authed = fake.requests.filter((r) => r.path.includes(fake.satelliteId));
    expect(authed.every((r) => r.auth === `Bearer ${fake.apiKey}`)).toBe(true);
  });

  it('verifies a persisted key at start instead of registering again', async () => {
    const before = fake.registrations.length;
    const keyBefore = fake.apiKey;
    // The old token is spent: a registration attempt would fail, so success proves the key was reused.
    app = await startSatellite(backendEnv(fake, tmp.dir, 'deploystack_satellite_global_already-used-token'));
    await waitFor('connection', () => app!.backend?.state === 'connected');
    expect(fake.registrations.length).toBe(before);
    expect(fake.apiKey).toBe(keyBefore);
    expect(JSON.parse(readFileSync(keyFile, 'utf8')).last_verified).toEqual(expect.any(String));
  });

  it('registers again when the backend rejects the persisted key', async () => {
    fake.revokeKey();
    app = await startSatellite(backendEnv(fake, tmp.dir, newToken(fake)));
    await waitFor('re-registration', () => app!.backend?.state === 'connected');
    expect(fake.apiKey).toBeDefined();
    expect(JSON.parse(readFileSync(keyFile, 'utf8')).api_key).toBe(fake.apiKey);
    expect(statSync(keyFile).mode & 0o777).toBe(0o600);
  });

  it('registers again when a running satellite\'s heartbeat is rejected', async () => {
    app = await startSatellite(backendEnv(fake, tmp.dir, newToken(fake)));
    await waitFor('connection', () => app!.backend?.state === 'connected');
    const regs = fake.registrations.length;
    fake.revokeKey();
    await app.backend!.sendHeartbeat();
    await waitFor('re-registration', () => fake.registrations.length === regs + 1 && app!.backend?.state === 'connected');
    await app.backend!.sendHeartbeat();
    expect(fake.heartbeats.at(-1)!.status).toBe('active');
  });

  it('keeps retrying with a clear log when the registration token is refused', async () => {
    const t2 = tempDir();
    try {
      const started = await startWithLogs(backendEnv(fake, t2.dir, 'deploystack_satellite_global_never-issued-token'));
      const { lines, base } = started;
      app = started.app;
      await waitFor('refusal log', () => lines.some((l) => l.includes('invalid_registration_token')));
      expect(app.backend!.state).toBe('connecting');
      expect(lines.join('\n')).not.toContain('never-issued-token');
      const res = await fetch(`${base}/`);
      expect(res.status).toBe(200);
    } finally {
      t2.cleanup();
    }
  });
});

describe('backend down at start', () => {
  it('serves the persisted configuration, retries, and connects when the backend comes up', async () => {
    await withBackend(async ({ fake, dir, apps }) => {
      let app: FastifyInstance | undefined;
      const track = (a: FastifyInstance) => (apps.push(a), a);
      fake.config = { mcp_servers: { a: stdioServer('i-1', 'team-a', 'alpha') } };
      app = track(await startSatellite(backendEnv(fake, dir, newToken(fake))));
      await waitFor('first config', () => Object.keys(app!.configStore.current.mcp_servers).length === 1);
      await app.close();
      app = undefined;

      await fake.stop();
      fake.config = { mcp_servers: { a: stdioServer('i-1', 'team-a', 'alpha'), b: stdioServer('i-2', 'team-b', 'beta') } };
      const started = await startWithLogs(backendEnv(fake, dir, 'deploystack_satellite_global_unused-token'));
      const { lines, base } = started;
      app = track(started.app);
      // Serving at once, with the configuration of the previous run.
      expect((await fetch(`${base}/`)).status).toBe(200);
      expect(Object.keys(app.configStore.current.mcp_servers)).toEqual(['a']);
      expect(app.configStore.current.teams['team-a']).toEqual({ slug: 'team-a-slug' });
      await waitFor('two failed attempts', () => lines.filter((l) => l.includes('backend not reachable')).length >= 2);
      expect(app.backend!.state).toBe('connecting');
      expect(await (await fetch(`${base}/api/status/backend`)).json()).toMatchObject({ connection_status: 'connecting' });
      await fake.start();
      await waitFor('connection after the backend came up', () => app!.backend?.state === 'connected', 8_000);
      await waitFor('new config', () => Object.keys(app!.configStore.current.mcp_servers).length === 2);
    });
  });
});

describe('bad local state', () => {
  it('starts with a corrupt persisted configuration and refuses an unusable data dir with a clear error', async () => {
    await withBackend(async ({ fake, dir, apps }) => {
      const env = backendEnv(fake, dir, newToken(fake));
      mkdirSync(join(dir, 'data', 'backend'), { recursive: true });
      writeFileSync(join(dir, 'data', 'backend', 'config.json'), '{"mcp_servers": [');
      fake.config = { mcp_servers: { a: stdioServer('i-1', 'team-a', 'alpha') } };
      const { app, lines } = await startWithLogs(env);
      apps.push(app);
      expect(lines.some((l) => l.includes('persisted backend configuration is unreadable'))).toBe(true);
      await waitFor('config from the backend', () => Object.keys(app.configStore.current.mcp_servers).length === 1);

      writeFileSync(join(dir, 'not-a-dir'), 'x');
      await expect(buildApp(testConfig({ ...env, SATELLITE_DATA_DIR: join(dir, 'not-a-dir') }))).rejects.toThrow(/event journal in .*not-a-dir.*SATELLITE_DATA_DIR.*ENOTDIR/);
    });
  });
});
