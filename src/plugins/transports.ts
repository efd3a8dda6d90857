import fp from 'fastify-plugin';
import type { FastifyInstance } from 'fastify';
import { join } from 'node:path';
import { SessionJournal } from '../transports/persistence/session-journal';
import { SessionPersistence } from '../transports/persistence/session-persistence';
import type { SessionHandlerFactory } from '../mcp/session-contract';
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
  /** Save Streamable HTTP sessions under SATELLITE_DATA_DIR/sessions so they survive a restart (default true). */
  persistSessions?: boolean;
  /** How often last-activity times of saved sessions are written. */
  activityFlushMs?: number;
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

  const persistence = opts.persistSessions === false ? undefined : openPersistence(app, sessions, opts);
  sessions.persistence = persistence;

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
    persistence?.start();
  });
  app.addHook('preClose', async () => {
    clearInterval(sweepTimer);
    clearInterval(keepAliveTimer);
    // Detached first: the sessions a shutdown closes stay saved for the next run.
    sessions.persistence = undefined;
    persistence?.close();
    sessions.closeAll('shutdown');
  });
}, { name: 'transports', dependencies: ['config'] });

/** The session journal; a data dir that cannot be used costs persistence, never the start. */
function openPersistence(app: FastifyInstance, sessions: SessionStore, opts: TransportsPluginOptions): SessionPersistence | undefined {
  const env = app.satellite.env;
  const log = app.log.child({ component: 'session-persistence' });
  const idleTimeoutMs = env.sessions.idleTimeoutSeconds * 1000;
  const file = join(env.dataDir, 'sessions', 'sessions.jsonl');
  let journal: SessionJournal;
  try {
    journal = new SessionJournal({ file, maxRecords: env.sessions.maxSessions, keep: (r) => r.lastActivity + idleTimeoutMs > Date.now(), log });
  } catch (err) {
    log.error({ err, file }, 'cannot open the session journal; sessions will not survive a restart');
    return undefined;
  }
  if (journal.size > 0) log.info({ sessions: journal.size }, 'sessions of the previous run can be resumed');
  return new SessionPersistence({
    journal,
    store: sessions,
    handlers: () => (app.hasDecorator('sessionHandlers') ? app.getDecorator<SessionHandlerFactory>('sessionHandlers') : undefined),
    idleTimeoutMs,
    replayTimeoutMs: env.process.requestTimeoutMs,
    activityFlushMs: opts.activityFlushMs ?? Math.min(30_000, Math.max(200, idleTimeoutMs / 10)),
    log
  });
}
