// Everything budget-related one app needs: the call gate every upstream goes through and the
// memory guard, both reading the current config so per-team overrides apply without a restart.
import type { Logger } from 'pino';
import type { EnvConfig } from '../config/env';
import type { StandaloneConfig } from '../config/standalone';
import type { ManagedUpstream } from '../servers/managed';
import { budgeted, type Sleepable } from './budgeted-upstream';
import { teamBudget, type TeamBudget } from './limits';
import { MemoryGuard, type TeamMemory } from './memory-guard';
import { registerBudgetMetrics, type BudgetMetrics } from './metrics';
import type { Registry } from 'prom-client';
import { BUDGET_EXHAUSTED, TeamGate } from './team-gate';
import { JsonRpcError } from '../mcp/jsonrpc';

export interface TeamBudgetsOptions {
  env: EnvConfig['budgets'];
  config(): StandaloneConfig;
  /** Every hosted server (the registry's all()). */
  servers(): ManagedUpstream[];
  log: Pick<Logger, 'info' | 'warn'>;
  procDir?: string;
  /** The app's Prometheus registry, when metrics are part of the app. */
  metricsRegistry?: Registry;
}

export class TeamBudgets {
  readonly gate: TeamGate;
  readonly memory: MemoryGuard;
  readonly #metrics: BudgetMetrics | undefined;

  constructor(private readonly opts: TeamBudgetsOptions) {
    this.gate = new TeamGate((teamId) => this.of(teamId), (teamId) => this.#metrics?.refused(teamId, 'concurrency'));
    this.#metrics = opts.metricsRegistry ? registerBudgetMetrics(opts.metricsRegistry, this.gate) : undefined;
    this.memory = new MemoryGuard({
      servers: () => opts.servers() as Array<ManagedUpstream & Sleepable>,
      budgetBytes: (teamId) => this.of(teamId).memoryBytes,
      log: opts.log,
      ...(opts.procDir ? { procDir: opts.procDir } : {})
    });
  }

  of(teamId: string): TeamBudget {
    return teamBudget(this.opts.env, this.opts.config(), teamId);
  }

  /** The registry's `wrap`: calls of this upstream pass the team's gate. */
  wrap(upstream: ManagedUpstream): ManagedUpstream {
    return budgeted(upstream, this.gate, (u) => this.#wakeCheck(u));
  }

  #wakeCheck(u: ManagedUpstream): JsonRpcError | undefined {
    const over = this.memory.overBudget(u.teamId);
    if (!over) return undefined;
    this.#metrics?.refused(u.teamId, 'memory');
    const mb = (n: number): number => Math.round(n / (1024 * 1024));
    return new JsonRpcError(BUDGET_EXHAUSTED,
      `Team '${u.config.team_slug}' is over its memory budget (${mb(over.usedBytes)} MB of ${mb(over.budgetBytes)} MB) and all its running servers are busy, so '${u.serverSlug}' cannot be started now; try again shortly.`,
      { reason: 'team_memory_budget', used_mb: mb(over.usedBytes), budget_mb: mb(over.budgetBytes) });
  }

  checkMemory(): TeamMemory[] {
    return this.memory.check();
  }
}
