import cron from 'node-cron';
import type { JobSchedule } from './types';

/** Something that calls `fire` on schedule until stopped. */
export interface Trigger {
  describe(): string;
  nextRunAt(): Date | undefined;
  stop(): void;
}

/** Throws a clear error for a schedule that can never work, before anything is started. */
export function validateSchedule(name: string, schedule: JobSchedule): void {
  if ('cron' in schedule) {
    if (typeof schedule.cron !== 'string' || !cron.validate(schedule.cron)) {
      throw new TypeError(`job "${name}": invalid cron expression ${JSON.stringify(schedule.cron)}`);
    }
  } else if (!Number.isInteger(schedule.everyMs) || schedule.everyMs < 100) {
    throw new TypeError(`job "${name}": everyMs must be an integer of at least 100 (got ${String(schedule.everyMs)})`);
  }
}

export function startTrigger(name: string, schedule: JobSchedule, fire: () => void): Trigger {
  if ('cron' in schedule) {
    // The job runner does its own overlap accounting; node-cron only ticks.
    const task = cron.schedule(schedule.cron, () => fire(), { name: `satellite:${name}`, unref: true });
    return {
      describe: () => `cron ${schedule.cron}`,
      nextRunAt: () => task.getNextRun() ?? undefined,
      stop: () => void task.destroy()
    };
  }
  const startedAt = Date.now();
  const timer = setInterval(fire, schedule.everyMs);
  timer.unref();
  return {
    describe: () => `every ${schedule.everyMs} ms`,
    nextRunAt: () => {
      const elapsed = (Date.now() - startedAt) % schedule.everyMs;
      return new Date(Date.now() + schedule.everyMs - elapsed);
    },
    stop: () => clearInterval(timer)
  };
}
