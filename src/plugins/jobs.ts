import fp from 'fastify-plugin';
import type { FastifyInstance } from 'fastify';
import { registerBuiltinJobs } from '../jobs/builtin';
import { JobScheduler } from '../jobs/scheduler';
import type { JobHooks } from '../jobs/types';

declare module 'fastify' {
  interface FastifyInstance {
    jobs: JobScheduler;
  }
}

interface EventSink {
  emit(type: string, data: Record<string, unknown>): unknown;
}

export interface JobsPluginOptions {
  /** How long a run in progress may take to honour its abort at shutdown. */
  stopGraceMs?: number;
}

// Other components register their own jobs (`app.jobs.register`) while the app is built; all of
// them start when the app is ready and stop in preClose, before the server stops accepting, so no
// job touches a component that is shutting down.
export default fp(async (app: FastifyInstance, opts: JobsPluginOptions) => {
  const hooks: JobHooks = {
    onRun: (name, outcome) => {
      if (app.hasDecorator('metrics')) app.metrics.jobRun(name, outcome);
    },
    onSkip: (name) => {
      if (app.hasDecorator('metrics')) app.metrics.jobRun(name, 'skipped');
    },
    onFailure: (name, error, timedOut) => {
      if (!app.hasDecorator('events')) return;
      app.getDecorator<EventSink>('events').emit('satellite.job.failed', { job: name, error: error.message, timed_out: timedOut });
    }
  };
  const jobs = new JobScheduler(app.log.child({ component: 'jobs' }), hooks);
  app.decorate('jobs', jobs);
  app.addHook('onReady', async () => {
    registerBuiltinJobs(app, jobs);
    jobs.start();
  });
  app.addHook('preClose', async () => {
    await jobs.stop(opts.stopGraceMs ?? 2_000);
  });
}, { name: 'jobs' });
