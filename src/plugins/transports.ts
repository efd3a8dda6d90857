import fp from 'fastify-plugin';
import type { FastifyInstance } from 'fastify';
import { SessionStore } from '../transports/session-store';

declare module 'fastify' {
  interface FastifyInstance {
    /** Every MCP client session (Streamable HTTP and legacy SSE); `connect`/`disconnect` events. */
    sessions: SessionStore;
  }
}

/** What this plugin needs of the job scheduler (src/jobs/, decorator `jobs`). */
interface JobRegistry {
  has(name: string): boolean;
  register(job: { name: string; schedule: { everyMs: number }; timeoutMs: number; run(): void }): void;
}

export interface TransportsPluginOptions {
  /** Events kept per session for Last-Event-ID replay. */
  replayEvents?: number;
  /** How often idle sessions are swept (as the `session-sweep` job when the job system is present). */
  sweepIntervalMs?: number;
}

// Owns the session store, its idle sweep (a job) and the SSE keep-alive timer;
// ends every stream in preClose so app.close() never waits on an open SSE response.
export default fp(async (app: FastifyInstance, opts: TransportsPluginOptions) => {
  const env = app.satellite.env;
  const sessions = new SessionStore({
    idleTimeoutMs: env.sessions.idleTimeoutSeconds * 1000,
    maxSessions: env.sessions.maxSessions,
    maxSessionsPerTeam: env.sessions.maxSessionsPerTeam,
    replayEvents: opts.replayEvents ?? 256,
    clientRequestTimeoutMs: env.process.requestTimeoutMs
  });
  app.decorate('sessions', sessions);
  const log = app.log.child({ component: 'sessions' });
  sessions.on('connect', (s) => log.debug({ teamId: s.teamId, transport: s.transport, target: s.target }, 'MCP session opened'));
  sessions.on('disconnect', (s) => log.debug({ teamId: s.teamId, transport: s.transport, reason: s.reason }, 'MCP session closed'));

  const sweepMs = opts.sweepIntervalMs ?? Math.min(60_000, Math.max(1000, (env.sessions.idleTimeoutSeconds * 1000) / 2));
  const sweep = (): void => {
    const n = sessions.sweep(Date.now());
    if (n > 0) log.info({ expired: n }, 'expired idle MCP sessions');
  };
  // The job system runs the sweep when it is part of the app (status, metrics); else a timer of our own.
  const jobs = app.hasDecorator('jobs') ? app.getDecorator<JobRegistry>('jobs') : undefined;
  if (jobs !== undefined && !jobs.has('session-sweep')) {
    jobs.register({ name: 'session-sweep', schedule: { everyMs: sweepMs }, timeoutMs: Math.min(sweepMs, 30_000), run: sweep });
  }
  let sweepTimer: NodeJS.Timeout | undefined;
  let keepAliveTimer: NodeJS.Timeout | undefined;
  app.addHook('onReady', async () => {
    if (jobs === undefined) {
      sweepTimer = setInterval(sweep, sweepMs);
      sweepTimer.unref();
    }
    keepAliveTimer = setInterval(() => sessions.keepAlive(), env.sessions.keepAliveSeconds * 1000);
    keepAliveTimer.unref();
  });
  app.addHook('preClose', async () => {
    clearInterval(sweepTimer);
    clearInterval(keepAliveTimer);
    sessions.closeAll('shutdown');
  });
}, { name: 'transports', dependencies: ['config'] });
