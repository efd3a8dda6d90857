import { afterEach, describe, expect, it } from 'vitest';
import Fastify, { type FastifyBaseLogger } from 'fastify';
import pino from 'pino';
import { JobScheduler } from '../../src/jobs/scheduler';
import type { Job, JobStatus } from '../../src/jobs/types';
import configPlugin from '../../src/plugins/config';
import jobsPlugin from '../../src/plugins/jobs';
import metricsPlugin from '../../src/plugins/metrics';
import { testConfig } from '../helpers/config';

const silent = pino({ level: 'silent' }) as unknown as FastifyBaseLogger;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `cond` every 20 ms; fails after `timeoutMs`. */
async function waitFor(cond: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

const statusOf = (s: JobScheduler, name: string): JobStatus => s.list().find((j) => j.name === name)!;

describe('JobScheduler', () => {
  let scheduler: JobScheduler | undefined;
  afterEach(async () => {
    await scheduler?.stop(500);
    scheduler = undefined;
  });

  it('keeps a job that throws running on its cron schedule (every second)', async () => {
    const failures: string[] = [];
    scheduler = new JobScheduler(silent, { onFailure: (name, err) => failures.push(`${name}: ${err.message}`) });
    let calls = 0;
    scheduler.register({ name: 'always-fails', schedule: { cron: '* * * * * *' }, timeoutMs: 500, run: () => { calls++; throw new Error(`boom ${calls}`); } });
    scheduler.start();
    await waitFor(() => calls >= 2, 3_500, 'two scheduled runs');
    const status = statusOf(scheduler, 'always-fails');
    expect(status.failures).toBeGreaterThanOrEqual(2);
    expect(status.runs).toBe(status.failures);
    expect(status.lastError).toMatch(/^boom \d+$/);
    expect(status.schedule).toBe('cron * * * * * *');
    expect(Date.parse(status.nextRunAt!)).toBeGreaterThan(Date.now() - 1_000);
    expect(failures[0]).toBe('always-fails: boom 1');
  });

  it('keeps an interval job running after a rejected promise, and records success after', async () => {
    scheduler = new JobScheduler(silent);
    let calls = 0;
    scheduler.register({ name: 'flaky', schedule: { everyMs: 100 }, timeoutMs: 500, run: async () => { if (++calls === 1) throw new Error('first run fails'); } });
    scheduler.start();
    await waitFor(() => calls >= 3, 2_000, 'three interval runs');
    await waitFor(() => statusOf(scheduler!, 'flaky').runs >= 3, 1_000, 'runs to be recorded');
    const status = statusOf(scheduler, 'flaky');
    expect(status.failures).toBe(1);
    expect(status.lastError).toBeUndefined();
    expect(status.lastSuccessAt).toBeDefined();
  });

  it('skips and counts ticks while a run is still going (never two runs at once)', async () => {
    const skips: string[] = [];
    scheduler = new JobScheduler(silent, { onSkip: (name) => skips.push(name) });
    let active = 0;
    let maxActive = 0;
    let runs = 0;
    scheduler.register({
      name: 'slow',
      schedule: { everyMs: 100 },
      timeoutMs: 2_000,
      run: async () => {
        active++;
        maxActive = Math.max(maxActive, active);
        await sleep(350);
        active--;
        runs++;
      }
    });
    scheduler.start();
    await waitFor(() => runs >= 2, 3_000, 'two completed runs');
    expect(maxActive).toBe(1);
    const status = statusOf(scheduler, 'slow');
    expect(status.skipped).toBeGreaterThanOrEqual(2);
    expect(skips.length).toBe(status.skipped);
  });

  it('aborts a run at its timeout and counts it as a failure', async () => {
    const seen: Array<{ timedOut: boolean }> = [];
    scheduler = new JobScheduler(silent, { onFailure: (_n, _e, timedOut) => seen.push({ timedOut }) });
    let signal: AbortSignal | undefined;
    scheduler.register({
      name: 'hangs',
      schedule: { cron: '0 0 1 1 *' },
      timeoutMs: 150,
      run: (s) => {
        signal = s;
        return new Promise<void>((_, reject) => s.addEventListener('abort', () => reject(s.reason)));
      }
    });
    scheduler.start();
    const started = Date.now();
    expect(await scheduler.runNow('hangs')).toBe('failure');
    expect(Date.now() - started).toBeLessThan(1_500);
    expect(signal?.aborted).toBe(true);
    await waitFor(() => !statusOf(scheduler!, 'hangs').running, 1_000, 'the aborted run to end');
    expect(statusOf(scheduler, 'hangs')).toMatchObject({ runs: 1, failures: 1, lastError: 'job "hangs" timed out after 150 ms' });
    expect(seen).toEqual([{ timedOut: true }]);
  });

  it('does not start a second run while a timed-out run ignores its signal', async () => {
    scheduler = new JobScheduler(silent);
    let finish: () => void = () => undefined;
    scheduler.register({ name: 'stubborn', schedule: { cron: '0 0 1 1 *' }, timeoutMs: 50, run: () => new Promise<void>((r) => (finish = r)) });
    scheduler.start();
    expect(await scheduler.runNow('stubborn')).toBe('failure');
    expect(await scheduler.runNow('stubborn')).toBe('skipped');
    finish();
    await waitFor(() => !statusOf(scheduler!, 'stubborn').running, 1_000, 'the run to end');
    expect(statusOf(scheduler, 'stubborn')).toMatchObject({ runs: 1, skipped: 1 });
  });

  it('rejects bad jobs with a clear error and keeps the good ones', () => {
    scheduler = new JobScheduler(silent);
    const ok: Job = { name: 'ok', schedule: { everyMs: 1_000 }, timeoutMs: 100, run: () => undefined };
    scheduler.register(ok);
    expect(() => scheduler!.register(ok)).toThrow('job "ok" is already registered');
    expect(() => scheduler!.register({ ...ok, name: 'bad-cron', schedule: { cron: 'every minute' } })).toThrow('job "bad-cron": invalid cron expression "every minute"');
    expect(() => scheduler!.register({ ...ok, name: 'tiny', schedule: { everyMs: 5 } })).toThrow(/everyMs must be an integer of at least 100/);
    expect(() => scheduler!.register({ ...ok, name: 'no-timeout', timeoutMs: 0 })).toThrow(/timeoutMs must be a positive integer/);
    expect(() => scheduler!.register({ ...ok, name: 'Bad Name' })).toThrow(/invalid job name/);
    expect(scheduler.list().map((j) => j.name)).toEqual(['ok']);
  });

  it('stops every schedule and aborts the run in progress on stop', async () => {
    scheduler = new JobScheduler(silent);
    let calls = 0;
    let aborted = false;
    scheduler.register({
      name: 'busy',
      schedule: { everyMs: 100 },
      timeoutMs: 5_000,
      runOnStart: true,
      run: (s) => new Promise<void>((r) => {
        calls++;
        s.addEventListener('abort', () => { aborted = true; r(); });
      })
    });
    scheduler.start();
    await waitFor(() => calls === 1, 1_000, 'the first run');
    await scheduler.stop(1_000);
    expect(aborted).toBe(true);
    const after = calls;
    await sleep(300);
    expect(calls).toBe(after);
    expect(() => scheduler!.register({ name: 'late', schedule: { everyMs: 100 }, timeoutMs: 10, run: () => undefined })).toThrow(/scheduler is stopped/);
  });
});

describe('jobs plugin', () => {
  it('reports failures to metrics and the event bus, and stops jobs on close', async () => {
    const app = Fastify();
    const events: Array<{ type: string; data: Record<string, unknown> }> = [];
    // A recording sink in place of the event bus (only its emit is used); typed loosely on purpose.
    const decorate = app.decorate.bind(app) as unknown as (name: string, value: unknown) => void;
    decorate('events', { emit: (type: string, data: Record<string, unknown>) => events.push({ type, data }) });
    await app.register(configPlugin, { config: testConfig() });
    await app.register(metricsPlugin, { defaultMetrics: false });
    await app.register(jobsPlugin);
    let calls = 0;
    app.jobs.register({ name: 'broken', schedule: { everyMs: 100 }, timeoutMs: 200, run: () => { calls++; throw new Error('disk on fire'); } });
    await app.ready();
    try {
      await waitFor(() => calls >= 2, 2_000, 'two runs');
      await waitFor(() => app.jobs.list()[0]!.failures >= 2, 1_000, 'failures recorded');
      const text = await app.metrics.scrape();
      expect(Number(text.match(/^satellite_job_failures_total\{job="broken"\} (\d+)$/m)?.[1])).toBeGreaterThanOrEqual(2);
      expect(text).toMatch(/^satellite_job_runs_total\{job="broken",outcome="failure"\} [1-9]/m);
      expect(events[0]).toEqual({ type: 'satellite.job.failed', data: { job: 'broken', error: 'disk on fire', timed_out: false } });
    } finally {
      await app.close();
    }
    const after = calls;
    await sleep(250);
    expect(calls).toBe(after);
  });
});
