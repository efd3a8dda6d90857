import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fp from 'fastify-plugin';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/app';
import { createShutdown } from '../../src/lifecycle/signals';
import { testConfig } from '../helpers/config';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The app with one slow route added, listening on loopback; `exits` collects exit codes. */
async function slowApp(delayMs: number, env: Record<string, string> = {}) {
  const app = await buildApp(testConfig(env));
  let started = 0;
  app.get('/test/slow', async () => {
    started++;
    await sleep(delayMs);
    return { finished: true };
  });
  const base = await app.listen({ port: 0, host: '127.0.0.1' });
  const exits: number[] = [];
  const exited = new Promise<number>((resolve) => {
    const shutdown = createShutdown(app, Number(env.SHUTDOWN_TIMEOUT_MS ?? 10_000), (code) => {
      exits.push(code);
      resolve(code);
    });
    Object.assign(app, { testShutdown: shutdown });
  });
  const signal = (s: NodeJS.Signals) => (app as FastifyInstance & { testShutdown: (s: NodeJS.Signals) => void }).testShutdown(s);
  const whenStarted = async () => {
    for (let i = 0; i < 100 && started === 0; i++) await sleep(10);
    expect(started).toBe(1);
  };
  return { app, base, exits, exited, signal, whenStarted };
}

describe('graceful shutdown', () => {
  it('lets an in-flight request finish, refuses new connections, and exits 0', async () => {
    const { base, exits, exited, signal, whenStarted } = await slowApp(400);
    const inFlight = fetch(`${base}/test/slow`);
    await whenStarted();
    signal('SIGTERM');
    const res = await inFlight;
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ finished: true });
    expect(await exited).toBe(0);
    await expect(fetch(`${base}/`)).rejects.toThrow();
    expect(exits).toEqual([0]);
  });

  it('cuts requests that outlive SHUTDOWN_TIMEOUT_MS so the close hooks still run', async () => {
    const { base, exited, signal, whenStarted } = await slowApp(20_000, { SHUTDOWN_TIMEOUT_MS: '300' });
    const inFlight = fetch(`${base}/test/slow`).then(() => 'answered', () => 'cut');
    await whenStarted();
    const t0 = Date.now();
    signal('SIGTERM');
    expect(await exited).toBe(0);
    expect(await inFlight).toBe('cut');
    expect(Date.now() - t0).toBeLessThan(5_000);
  });

  it('forces exit 1 on a second signal', async () => {
    const { app, exits, exited, signal, whenStarted, base } = await slowApp(20_000);
    const inFlight = fetch(`${base}/test/slow`).catch(() => undefined);
    await whenStarted();
    signal('SIGTERM');
    await sleep(50);
    expect(exits).toEqual([]);
    signal('SIGINT');
    expect(await exited).toBe(1);
    expect(exits).toEqual([1]);
    app.server.closeAllConnections();
    await inFlight;
  });

  it('waits for in-flight POSTs before later preClose hooks end sessions and streams', async () => {
    const app = await buildApp(testConfig());
    const order: string[] = [];
    let arrived = false;
    app.post('/test/slow-post', async () => {
      arrived = true;
      await sleep(300);
      order.push('post answered');
      return { ok: true };
    });
    // Stands for the transports plugin, which ends every session and stream in preClose.
    await app.register(fp(async (instance) => {
      instance.addHook('preClose', async () => {
        order.push('streams ended');
      });
    }));
    const base = await app.listen({ port: 0, host: '127.0.0.1' });
    const inFlight = fetch(`${base}/test/slow-post`, { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } });
    for (let i = 0; i < 200 && !arrived; i++) await sleep(10);
    expect(arrived).toBe(true);
    const closed = app.close();
    const res = await inFlight;
    expect(res.status).toBe(200);
    expect(res.headers.get('connection')).toBe('close');
    await closed;
    expect(order).toEqual(['post answered', 'streams ended']);
  });

  it('stops jobs first and closes the audit trail last, after later plugins wrote to it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'satellite-shutdown-'));
    try {
      const file = join(dir, 'audit.log');
      const app = await buildApp(testConfig({ AUDIT_LOG_FILE: file }));
      const order: string[] = [];
      app.jobs.register({
        name: 'long-job',
        schedule: { cron: '0 0 1 1 *' },
        timeoutMs: 60_000,
        runOnStart: true,
        run: (signal) => new Promise<void>((resolve) => signal.addEventListener('abort', () => { order.push('job aborted'); resolve(); }))
      });
      // Stands for the registry and the session store: registered after the ops plugins.
      await app.register(fp(async (instance) => {
        instance.addHook('onClose', async () => {
          order.push('children stopped');
          instance.audit.record('session.ended', { team: 'team-x', session: 'sess-late', reason: 'shutdown' });
        });
      }));
      await app.listen({ port: 0, host: '127.0.0.1' });
      for (let i = 0; i < 100 && !app.jobs.list().some((j) => j.running); i++) await sleep(10);
      expect(app.jobs.list().find((j) => j.name === 'long-job')?.running).toBe(true);
      const code = await new Promise<number>((resolve) => createShutdown(app, 5_000, resolve)('SIGTERM'));
      expect(code).toBe(0);
      expect(order).toEqual(['job aborted', 'children stopped']);
      const lines = readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
      expect(lines.at(-1)).toMatchObject({ action: 'session.ended', team: 'team-x', reason: 'shutdown' });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
