import fp from 'fastify-plugin';
import type { FastifyInstance } from 'fastify';
import { SatelliteMetrics } from '../metrics/satellite-metrics';

declare module 'fastify' {
  interface FastifyInstance {
    metrics: SatelliteMetrics;
  }
}

/** What the process gauge reads when the server registry exists and nobody provided one. */
interface ServerListSource {
  list(teamId?: string): Array<{ status: string }>;
}

export interface MetricsPluginOptions {
  /** Process-wide default metrics (CPU, memory, event loop); on unless turned off. */
  defaultMetrics?: boolean;
}

export default fp(async (app: FastifyInstance, opts: MetricsPluginOptions) => {
  const metrics = new SatelliteMetrics({ defaultMetrics: opts.defaultMetrics });
  app.decorate('metrics', metrics);

  // The route pattern, never the raw URL: bounded label values, and no ids or tokens from paths.
  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched';
    metrics.observeRequest(request.method, route, reply.statusCode, reply.elapsedTime / 1000);
  });

  app.addHook('onReady', async () => {
    if (!metrics.hasProvider('processStatuses') && app.hasDecorator('servers')) {
      const servers = app.getDecorator<Partial<ServerListSource>>('servers');
      if (typeof servers.list === 'function') {
        metrics.provide({ processStatuses: () => servers.list!().map((s) => s.status) });
      }
    }
  });
}, { name: 'metrics' });
