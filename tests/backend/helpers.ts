import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/app';
import type { StandaloneConfig } from '../../src/config/standalone';
import { testConfig } from '../helpers/config';
import { FakeBackend } from '../fake-backend/server';

export const SAT_NAME = 'satellite-test-01';
let tokenCounter = 0;

/** A fresh single-use registration token the fake accepts. */
export function newToken(fake: FakeBackend): string {
  const t = `deploystack_satellite_global_test-token-${process.pid}-${++tokenCounter}`;
  fake.addRegistrationToken(t);
  return t;
}

export function tempDir(): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'satellite-backend-'));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export function backendEnv(fake: FakeBackend, dir: string, token: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    DEPLOYSTACK_BACKEND_URL: fake.url,
    DEPLOYSTACK_SATELLITE_NAME: SAT_NAME,
    DEPLOYSTACK_REGISTRATION_TOKEN: token,
    DEPLOYSTACK_CREDENTIALS_FILE: join(dir, 'creds', 'backend.key.json'),
    DEPLOYSTACK_SATELLITE_URL: 'https://sat.example.test',
    SATELLITE_DATA_DIR: join(dir, 'data'),
    AUDIT_LOG_FILE: join(dir, 'data', 'audit.log'),
    EVENT_BATCH_INTERVAL_MS: '100',
    ...extra
  };
}

export async function startSatellite(env: Record<string, string>, standalone: Partial<StandaloneConfig> = {}): Promise<FastifyInstance> {
  const app = await buildApp(testConfig(env, standalone));
  await app.listen({ port: 0, host: '127.0.0.1' });
  return app;
}

/** Polls `cond` every 25 ms; fails after `timeoutMs` naming what it waited for. */
export async function waitFor(what: string, cond: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

export function stdioServer(id: string, team: string, slug: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    installation_id: id,
    team_id: team,
    team_slug: `${team}-slug`,
    server_slug: slug,
    installation_name: `${slug}-${team}-${id}`,
    transport_type: 'stdio',
    command: 'node',
    args: ['server.js'],
    env: { API_KEY: 'secret' },
    enabled: true,
    ...extra
  };
}

/** A running fake backend and a temp directory for one test; the app slot is closed afterwards too. */
export async function withBackend(fn: (ctx: { fake: FakeBackend; dir: string; apps: FastifyInstance[] }) => Promise<void>): Promise<void> {
  const fake = new FakeBackend();
  await fake.start();
  const tmp = tempDir();
  const apps: FastifyInstance[] = [];
  try {
    await fn({ fake, dir: tmp.dir, apps });
  } finally {
    for (const app of apps) await app.close();
    await fake.stop();
    tmp.cleanup();
  }
}

/** A started satellite whose info-level log lines are captured. */
export async function startWithLogs(env: Record<string, string>): Promise<{ app: FastifyInstance; lines: string[]; base: string }> {
  const lines: string[] = [];
  const app = await buildApp(testConfig({ ...env, LOG_LEVEL: 'info' }), { logStream: { write: (l: string) => void lines.push(l) } });
  const base = await app.listen({ port: 0, host: '127.0.0.1' });
  return { app, lines, base };
}
