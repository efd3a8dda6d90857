import fp from 'fastify-plugin';
import type { FastifyInstance } from 'fastify';
import { SessionStore } from '../transports/session-store';

declare module 'fastify' {
  interface FastifyInstance {
    /** Every MCP client session (Streamable HTTP and legacy SSE); `connect`/`disconnect` events. */
    sessions: SessionStore;
  }
}

export interface TransportsPluginOptions {
  /** Events kept per session for Last-Event-ID replay. */
  replayEvents?: number;
  /** How often idle sessions are swept (the jobs system may also call sessions.sweep). */
  sweepIntervalMs?: number;
}

// Owns the session store and the two transport-wide timers (idle sweep, SSE keep-alive);
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

  let sweepTimer: NodeJS.Timeout | undefined;
  let keepAliveTimer: NodeJS.Timeout | undefined;
  app.addHook('onReady', async () => {
    const sweepMs = opts.sweepIntervalMs ?? Math.min(60_000, Math.max(1000, (env.sessions.idleTimeoutSeconds * 1000) / 2));
    sweepTimer = setInterval(() => {
      const n = sessions.sweep(Date.now());
      if (n > 0) log.info({ expired: n }, 'expired idle MCP sessions');
    }, sweepMs);
    sweepTimer.unref();
    keepAliveTimer = setInterval(() => sessions.keepAlive(), env.sessions.keepAliveSeconds * 1000);
    keepAliveTimer.unref();
  });
  app.addHook('preClose', async () => {
    clearInterval(sweepTimer);
    clearInterval(keepAliveTimer);
    sessions.closeAll('shutdown');
  });
}, { name: 'transports', dependencies: ['config'] });
