import { randomUUID } from 'node:crypto';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { DestinationStream } from 'pino';
import type { SatelliteConfig } from './config/satellite-config';
import { createLogger } from './logging/logger';
import configPlugin from './plugins/config';
import { drainConnections } from './lifecycle/signals';
import eventsPlugin from './plugins/events';
import backendPlugin from './plugins/backend';
import auditPlugin from './plugins/audit';
import jobsPlugin from './plugins/jobs';
import serversPlugin from './plugins/servers';
import gatewayPlugin from './plugins/gateway';
import { remoteUpstreamFactory } from './servers/remote';
import metricsPlugin from './plugins/metrics';
import metricsRoutes from './routes/metrics';
import statusRoutes from './routes/status';
import readinessPlugin from './routes/status-ready';
import authPlugin from './plugins/auth';
import oauthCacheRoutes from './routes/oauth-cache';
import oauthMetadataRoutes from './routes/oauth-metadata';
import corsPlugin from './plugins/cors';
import swaggerPlugin from './plugins/swagger';
import rootRoutes from './routes/root';
import transportsPlugin from './plugins/transports';
import sessionHandlersPlugin from './plugins/session-handlers';
import mcpRoutes from './routes/mcp';
import sseRoutes from './routes/sse';
import { frameworkErrors } from './transports/framework-errors';

export interface BuildOptions {
  /** Where logs go (tests capture them); stdout otherwise. */
  logStream?: DestinationStream;
}

/** The app factory: every plugin and route of the daemon, used by src/index.ts and by tests. */
export async function buildApp(config: SatelliteConfig, options: BuildOptions = {}): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: createLogger(config.env, options.logStream) as FastifyBaseLogger,
    bodyLimit: config.env.bodyLimit,
    // Slow clients (slowloris: headers or body trickled) are cut once the whole request has not
    // arrived in time; answers and SSE streams are not covered, so long calls and streams live on.
    requestTimeout: config.env.httpRequestTimeoutMs,
    http: {
      headersTimeout: config.env.httpRequestTimeoutMs,
      // Node checks the timeouts above only this often (30 s by default).
      connectionsCheckingInterval: Math.min(1000, config.env.httpRequestTimeoutMs)
    },
    requestIdHeader: 'x-request-id',
    genReqId: () => randomUUID(),
    return503OnClosing: true,
    forceCloseConnections: 'idle',
    frameworkErrors
  });
  app.addHook('onSend', async (req, reply) => {
    reply.header('x-request-id', req.id);
  });

  await app.register(configPlugin, { config });
  await app.register(drainConnections);
  await app.register(eventsPlugin);
  await app.register(auditPlugin);
  await app.register(metricsPlugin);
  await app.register(readinessPlugin);
  await app.register(jobsPlugin);
  await app.register(serversPlugin, { remoteFactory: remoteUpstreamFactory(config.env.process.requestTimeoutMs, config.env.process.maxRequestTimeoutMs) });
  await app.register(gatewayPlugin);
  await app.register(swaggerPlugin);
  await app.register(corsPlugin);
  await app.register(authPlugin);
  await app.register(oauthMetadataRoutes);
  await app.register(oauthCacheRoutes);
  await app.register(rootRoutes);
  await app.register(transportsPlugin);
  await app.register(sessionHandlersPlugin);
  await app.register(mcpRoutes);
  await app.register(sseRoutes);
  await app.register(statusRoutes);
  await app.register(metricsRoutes);
  await app.register(backendPlugin);
  return app;
}
