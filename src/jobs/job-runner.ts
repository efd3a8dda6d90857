import type { FastifyBaseLogger } from 'fastify';
import { redactUrl } from '../logging/redaction';
import { startTrigger, type Trigger } from './trigger';
import type { Job, JobHooks, JobStatus, RunOutcome } from './types';

export class JobTimeoutError extends Error {
  constructor(name: string, timeoutMs: number) {
    super(`job "${name}" timed out after ${timeoutMs} ms`);
    this.name = 'JobTimeoutError';
  }
}

const MAX_ERROR_LENGTH = 500;

function describeError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}

/**
 * One job: runs on its trigger, never twice at once (a tick during a run is skipped and
 * counted), aborts a run at its timeout, and turns every failure into a log line, a counter and
 * a hook call. Nothing a run does can stop the schedule.
 */
export class JobRunner {
  #trigger: Trigger | undefined;
  #current: { controller: AbortController; settled: Promise<void> } | undefined;
  #stopped = false;
  readonly #status: JobStatus;

  constructor(readonly job: Job, private readonly log: FastifyBaseLogger, private readonly hooks: JobHooks) {
    const schedule = 'cron' in job.schedule ? `cron ${job.schedule.cron}` : `every ${job.schedule.everyMs} ms`;
    this.#status = { name: job.name, schedule, timeoutMs: job.timeoutMs, running: false, runs: 0, failures: 0, skipped: 0 };
  }

  start(): void {
    if (this.#trigger || this.#stopped) return;
    this.#trigger = startTrigger(this.job.name, this.job.schedule, () => void this.tick());
    if (this.job.runOnStart) void this.tick();
  }

  status(): JobStatus {
    const next = this.#trigger?.nextRunAt();
    return { ...this.#status, running: this.#current !== undefined, ...(next ? { nextRunAt: next.toISOString() } : {}) };
  }

  /** One run now (or a skip if one is still going); resolves with what happened, never rejects. */
  async tick(): Promise<RunOutcome> {
    if (this.#stopped) return 'stopped';
    if (this.#current) {
      this.#status.skipped++;
      this.log.warn({ job: this.job.name }, 'job still running: tick skipped');
      this.#safe(() => this.hooks.onSkip?.(this.job.name));
      return 'skipped';
    }
    const controller = new AbortController();
    const startedAt = Date.now();
    const timer = setTimeout(() => controller.abort(new JobTimeoutError(this.job.name, this.job.timeoutMs)), this.job.timeoutMs);
    const work = Promise.resolve().then(() => this.job.run(controller.signal));
    // The slot stays taken until the work really ends, even after a timeout: a run that ignores
    // its signal must not be joined by a second one.
    const settled = work.then(() => undefined, () => undefined).finally(() => {
      clearTimeout(timer);
      if (this.#current?.controller === controller) this.#current = undefined;
    });
    this.#current = { controller, settled };
    const aborted = new Promise<never>((_, reject) => {
      controller.signal.addEventListener('abort', () => reject(describeError(controller.signal.reason)), { once: true });
    });
    let outcome: RunOutcome;
    try {
      await Promise.race([work, aborted]);
      outcome = 'success';
      this.#status.lastSuccessAt = new Date().toISOString();
      this.#status.lastError = undefined;
    } catch (err) {
      outcome = 'failure';
      this.#recordFailure(describeError(err));
    }
    aborted.catch(() => undefined);
    const duration = Date.now() - startedAt;
    this.#status.runs++;
    this.#status.lastRunAt = new Date(startedAt).toISOString();
    this.#status.lastDurationMs = duration;
    this.#safe(() => this.hooks.onRun?.(this.job.name, outcome as 'success' | 'failure', duration));
    return outcome;
  }

  /** Stops the schedule and aborts a run in progress, waiting for it at most `graceMs`. */
  async stop(graceMs: number): Promise<void> {
    this.#stopped = true;
    this.#trigger?.stop();
    this.#trigger = undefined;
    const current = this.#current;
    if (!current) return;
    current.controller.abort(new Error('shutting down'));
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([current.settled, new Promise<void>((r) => (timer = setTimeout(r, graceMs)))]);
    clearTimeout(timer);
  }

  #recordFailure(err: Error): void {
    const timedOut = err instanceof JobTimeoutError;
    this.#status.failures++;
    this.#status.lastError = redactUrl(err.message).slice(0, MAX_ERROR_LENGTH);
    if (this.#stopped && !timedOut) return; // aborted by shutdown: not a failure worth an alarm
    this.log.error({ job: this.job.name, error: this.#status.lastError, timedOut }, 'job failed');
    this.#safe(() => this.hooks.onFailure?.(this.job.name, err, timedOut));
  }

  #safe(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.log.warn({ job: this.job.name, error: (err as Error).message }, 'job hook failed');
    }
  }
}
