/** When a job runs: a node-cron expression (5 or 6 fields; seconds first when 6) or a fixed interval. */
export type JobSchedule = { cron: string } | { everyMs: number };

export interface Job {
  /** Unique within one app; appears in logs, metrics and GET /api/status/jobs. */
  name: string;
  schedule: JobSchedule;
  /** The run's signal is aborted after this long; the run counts as failed. */
  timeoutMs: number;
  /** Also run once as soon as the job starts (heartbeat, dormancy check). */
  runOnStart?: boolean;
  /** Must honour `signal` (aborted on timeout and on shutdown). */
  run(signal: AbortSignal): Promise<void> | void;
}

export interface JobStatus {
  name: string;
  schedule: string;
  timeoutMs: number;
  running: boolean;
  runs: number;
  failures: number;
  skipped: number;
  lastRunAt?: string;
  lastDurationMs?: number;
  lastSuccessAt?: string;
  lastError?: string;
  nextRunAt?: string;
}

export type RunOutcome = 'success' | 'failure' | 'skipped' | 'stopped';

/** What the scheduler reports outward (metrics, events); every hook is optional and must not throw. */
export interface JobHooks {
  onRun?(name: string, outcome: 'success' | 'failure', durationMs: number): void;
  onSkip?(name: string): void;
  onFailure?(name: string, error: Error, timedOut: boolean): void;
}
