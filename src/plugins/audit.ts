import fp from 'fastify-plugin';
import type { FastifyInstance } from 'fastify';
import { resolve } from 'node:path';
import { AuditLog } from '../audit/audit-log';
import { diffConfig } from '../audit/config-diff';
import type { StandaloneConfig } from '../config/standalone';

declare module 'fastify' {
  interface FastifyInstance {
    audit: AuditLog;
  }
}

/** What the audit plugin reads of the session store (src/transports/, decorator `sessions`). */
interface SessionEvents {
  on(event: 'connect', listener: (s: SessionInfo) => void): unknown;
  on(event: 'disconnect', listener: (s: SessionInfo & { reason: string; durationMs: number }) => void): unknown;
  on(event: 'denied', listener: (s: { sessionId: string; teamId: string; userId?: string; ownerTeamId: string; reason: string }) => void): unknown;
}
interface SessionInfo {
  sessionId: string;
  teamId: string;
  userId?: string;
  transport: string;
  target: { kind: string; serverSlug?: string };
}

// The reason a 401/403 carries in its RFC 6750 challenge (invalid_token, insufficient_scope).
const challengeError = (header: unknown): string | undefined => (typeof header === 'string' ? /error="([a-z_]+)"/.exec(header)?.[1] : undefined);

// Registered early in buildApp: onClose hooks run in reverse registration order, so the audit file
// closes after later plugins (sessions, servers, backend) have written their last records.
export default fp(async (app: FastifyInstance) => {
  const env = app.satellite.env;
  const audit = new AuditLog({ file: resolve(env.auditLogFile), maxBytes: env.audit.maxSizeMb * 1024 * 1024, maxFiles: env.audit.maxFiles }, app.log);
  app.decorate('audit', audit);
  app.log.info({ file: audit.path }, 'audit log open');

  // Every refused credential, on whichever route (src/auth records 429 and 503 refusals itself).
  app.addHook('onResponse', async (request, reply) => {
    if (reply.statusCode !== 401 && reply.statusCode !== 403) return;
    const reason = challengeError(reply.getHeader('www-authenticate')) ?? (reply.statusCode === 401 && !request.headers.authorization ? 'missing_token' : undefined);
    audit.record('auth.failed', {
      ip: request.ip,
      method: request.method,
      route: request.routeOptions.url ?? 'unmatched',
      status: reply.statusCode,
      reason,
      requestId: request.id
    });
  });

  const onConfig = (next: StandaloneConfig, previous: StandaloneConfig) => {
    audit.record('config.changed', { source: env.backend.url ? 'backend' : 'standalone', ...diffConfig(next, previous) });
  };
  app.configStore.on('change', onConfig);

  app.addHook('onReady', async () => {
    if (!app.hasDecorator('sessions')) return;
    const sessions = app.getDecorator<SessionEvents>('sessions');
    sessions.on('connect', (s) => audit.record('session.created', {
      team: s.teamId, user: s.userId, session: s.sessionId, transport: s.transport, target: s.target.kind, server: s.target.serverSlug
    }));
    sessions.on('disconnect', (s) => audit.record('session.ended', {
      team: s.teamId, user: s.userId, session: s.sessionId, reason: s.reason, durationMs: s.durationMs
    }));
    sessions.on('denied', (s) => audit.record('session.denied', {
      team: s.teamId, user: s.userId, session: s.sessionId, ownerTeam: s.ownerTeamId, reason: s.reason
    }));
  });

  app.addHook('onClose', async () => {
    app.configStore.off('change', onConfig);
    audit.close();
  });
}, { name: 'audit', dependencies: ['config'] });
