// Budget figures in the app's Prometheus registry: calls in flight and queued per team (read at
// scrape time) and refusals by team and budget.
import { Counter, Gauge, type Registry } from 'prom-client';

export interface BudgetMetrics {
  refused(teamId: string, budget: 'concurrency' | 'memory'): void;
}

export function registerBudgetMetrics(registry: Registry, gate: { busyTeams(): string[]; inFlight(teamId: string): number; queued(teamId: string): number }): BudgetMetrics {
  const refusals = new Counter({
    name: 'satellite_team_budget_refusals_total', help: 'Calls refused because a team budget was exhausted',
    labelNames: ['team', 'budget'] as const, registers: [registry]
  });
  const gauge = (name: string, help: string, read: (team: string) => number): void => {
    new Gauge({
      name, help, labelNames: ['team'] as const, registers: [registry],
      collect() {
        this.reset();
        for (const team of gate.busyTeams()) this.set({ team }, read(team));
      }
    });
  };
  gauge('satellite_team_calls_in_flight', 'Calls in flight towards a team\'s servers', (t) => gate.inFlight(t));
  gauge('satellite_team_calls_queued', 'Calls waiting for one of a team\'s slots', (t) => gate.queued(t));
  return { refused: (team, budget) => refusals.inc({ team, budget }) };
}
