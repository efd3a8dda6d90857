// A team's budgets: the env defaults, overridden per team by the standalone config's
// `teams.<id>.budgets`.
import type { EnvConfig } from '../config/env';
import type { StandaloneConfig } from '../config/standalone';
import type { CallLimits } from './team-gate';

export interface TeamBudget extends CallLimits {
  /** Resident memory of all the team's server processes (bytes); 0 = unlimited. */
  memoryBytes: number;
}

const MB = 1024 * 1024;

export function teamBudget(env: EnvConfig['budgets'], config: StandaloneConfig, teamId: string): TeamBudget {
  const o = config.teams[teamId]?.budgets ?? {};
  return {
    maxConcurrent: o.max_concurrent_calls ?? env.maxConcurrentCalls,
    maxQueued: o.max_queued_calls ?? env.maxQueuedCalls,
    queueWaitMs: o.queue_wait_ms ?? env.queueWaitMs,
    memoryBytes: (o.memory_mb ?? env.memoryMb) * MB
  };
}
