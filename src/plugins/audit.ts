import fp from 'fastify-plugin';
import type { FastifyInstance } from 'fastify';
import { resolve } from 'node:path';
import { AuditLog } from '../audit/audit-log';
import { diffServers } from '../audit/config-diff';

declare module 'fastify' {
  interface FastifyInstance {
    audit: AuditLog;
  }
}

// Authentication failures are recorded by src/auth (recordFailure) with their reason.
// Registered early in buildApp: onClose hooks run in reverse order, so the audit file closes after
// the plugins registered later (sessions, servers) have written their last records.
export default fp(async (app: FastifyInstance) => {
  const env = app.satellite.env;
  const audit = new AuditLog({ file: resolve(env.auditLogFile), maxBytes: env.audit.maxSizeMb * 1024 * 1024, maxFiles: env.audit.maxFiles }, app.log);
  app.decorate('audit', audit);
  app.log.info({ file: audit.path }, 'audit log open');

  const onConfig = (next: Parameters<typeof diffServers>[0], previous: Parameters<typeof diffServers>[1]) => {
    audit.record('config.changed', { source: env.backend.url ? 'backend' : 'standalone', ...diffServers(next, previous) });
  };
  app.configStore.on('change', onConfig);

  app.addHook('onClose', async () => {
    app.configStore.off('change', onConfig);
    audit.close();
  });
}, { name: 'audit', dependencies: ['config'] });
