// Runs the memory check as the `team-memory-budget` job when the job system is present (status,
// metrics), else on a timer of its own; only teams with a memory budget cost anything.
import type { FastifyInstance } from 'fastify';
import type { TeamBudgets } from './team-budgets';

interface JobRegistry {
  has(name: string): boolean;
  register(job: { name: string; schedule: { everyMs: number }; timeoutMs: number; runOnStart?: boolean; run: () => unknown }): void;
}

export function scheduleMemoryChecks(app: FastifyInstance, budgets: TeamBudgets, everyMs: number): void {
  const run = (): void => void budgets.checkMemory();
  const jobs = app.hasDecorator('jobs') ? app.getDecorator<JobRegistry>('jobs') : undefined;
  if (jobs !== undefined) {
    if (!jobs.has('team-memory-budget')) jobs.register({ name: 'team-memory-budget', schedule: { everyMs }, timeoutMs: Math.min(everyMs, 30_000), runOnStart: false, run });
    return;
  }
  let timer: NodeJS.Timeout | undefined;
  app.addHook('onReady', async () => {
    timer = setInterval(run, everyMs);
    timer.unref();
  });
  app.addHook('preClose', async () => clearInterval(timer));
}
