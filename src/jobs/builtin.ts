import type { FastifyInstance } from 'fastify';
import type { JobScheduler } from './scheduler';

/** What the dormancy job needs of the server registry (src/servers/, decorator `servers`). */
interface DormancySource {
  checkDormancy(now: number): unknown;
}

/**
 * Jobs whose body belongs to another component but whose owner exposes only a method: added
 * at ready time when that component is present and has not registered the job itself.
 */
export function registerBuiltinJobs(app: FastifyInstance, jobs: JobScheduler): void {
  if (app.hasDecorator('servers') && !jobs.has('dormancy-check')) {
    const servers = app.getDecorator<Partial<DormancySource>>('servers');
    if (typeof servers.checkDormancy === 'function') {
      jobs.register({
        name: 'dormancy-check',
        schedule: { everyMs: 30_000 },
        timeoutMs: 25_000,
        runOnStart: false,
        run: async () => {
          await servers.checkDormancy!(Date.now());
        }
      });
    }
  }
}
