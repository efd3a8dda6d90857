import type { TeamBudgets } from './team-budgets';

/** A team's budgets and their use, for GET /api/status/team (0 = unlimited). */
export function teamBudgetStatus(budgets: TeamBudgets, teamId: string): { maxConcurrentCalls: number; callsInFlight: number; callsQueued: number; memoryBudgetMb: number } {
  const b = budgets.of(teamId);
  return {
    maxConcurrentCalls: b.maxConcurrent,
    callsInFlight: budgets.gate.inFlight(teamId),
    callsQueued: budgets.gate.queued(teamId),
    memoryBudgetMb: Math.round(b.memoryBytes / (1024 * 1024))
  };
}
