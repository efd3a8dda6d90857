import type { FastifyBaseLogger } from 'fastify';
import { JobRunner } from './job-runner';
import { validateSchedule } from './trigger';
import type { Job, JobHooks, JobStatus, RunOutcome } from './types';

const NAME_PATTERN = /^[a-z0-9][a-z0-9._-]{0,63}$/;

/** All jobs of one app. Jobs registered before start() begin with it; later ones begin at once. */
export class JobScheduler {
  readonly #runners = new Map<string, JobRunner>();
  #started = false;
  #stopped = false;

  constructor(private readonly log: FastifyBaseLogger, private readonly hooks: JobHooks = {}) {}

  register(job: Job): void {
    if (this.#stopped) throw new Error(`job "${job.name}": the scheduler is stopped`);
    if (typeof job.name !== 'string' || !NAME_PATTERN.test(job.name)) throw new TypeError(`invalid job name ${JSON.stringify(job.name)}: expected ${NAME_PATTERN}`);
    if (this.#runners.has(job.name)) throw new Error(`job "${job.name}" is already registered`);
    if (!Number.isInteger(job.timeoutMs) || job.timeoutMs < 1) throw new TypeError(`job "${job.name}": timeoutMs must be a positive integer`);
    if (typeof job.run !== 'function') throw new TypeError(`job "${job.name}": run must be a function`);
    validateSchedule(job.name, job.schedule);
    const runner = new JobRunner(job, this.log.child({ job: job.name }), this.hooks);
    this.#runners.set(job.name, runner);
    if (this.#started) runner.start();
  }

  has(name: string): boolean {
    return this.#runners.has(name);
  }

  start(): void {
    if (this.#started || this.#stopped) return;
    this.#started = true;
    for (const runner of this.#runners.values()) runner.start();
    this.log.info({ jobs: [...this.#runners.keys()] }, 'background jobs started');
  }

  /** Runs a job now, outside its schedule (subject to the same overlap protection). */
  runNow(name: string): Promise<RunOutcome> {
    const runner = this.#runners.get(name);
    if (!runner) return Promise.reject(new Error(`unknown job "${name}"`));
    return runner.tick();
  }

  list(): JobStatus[] {
    return [...this.#runners.values()].map((r) => r.status());
  }

  async stop(graceMs: number): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    await Promise.all([...this.#runners.values()].map((r) => r.stop(graceMs)));
    this.log.info('background jobs stopped');
  }
}
