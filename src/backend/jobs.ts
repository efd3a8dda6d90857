import type { BackendLink, LinkIntervals } from './link';

/** How often the command poll job checks whether a poll is due. */
const COMMAND_POLL_TICK_MS = 500;

/** The part of the jobs plugin's scheduler this module needs. */
export interface JobRegistry {
  register(job: { name: string; schedule: { everyMs: number }; timeoutMs: number; runOnStart?: boolean; run(signal: AbortSignal): Promise<void> }): void;
}

/**
 * Hands the link's periodic work to the job scheduler (status, metrics, overlap protection).
 * Each run is a no-op until the link is connected, so a backend that is down shows up once in
 * the link's logs rather than as a failure every tick.
 */
export function registerBackendJobs(jobs: JobRegistry, link: BackendLink, iv: Pick<LinkIntervals, 'heartbeatMs' | 'configCheckMs'>, flushEveryMs: number): void {
  const whenConnected = (fn: () => Promise<unknown>) => async () => {
    if (link.state === 'connected') await fn();
  };
  jobs.register({ name: 'backend-heartbeat', schedule: { everyMs: iv.heartbeatMs }, timeoutMs: 15_000, run: whenConnected(() => link.sendHeartbeat()) });
  jobs.register({ name: 'backend-config-check', schedule: { everyMs: iv.configCheckMs }, timeoutMs: 30_000, run: whenConnected(() => link.syncConfig()) });
  // Ticks often and returns at once unless the link says a poll is due: the backend's
  // next_poll_interval hints keep deciding the real cadence.
  jobs.register({ name: 'backend-command-poll', schedule: { everyMs: COMMAND_POLL_TICK_MS }, timeoutMs: 300_000, run: () => link.pollIfDue() });
  if (link.sender) {
    jobs.register({
      name: 'event-flush',
      schedule: { everyMs: flushEveryMs },
      timeoutMs: 60_000,
      // A failed delivery is not thrown: a job failure emits an event, which would feed the queue it cannot drain.
      run: whenConnected(() => link.flushEvents())
    });
  }
}
