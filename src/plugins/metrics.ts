import fp from 'fastify-plugin';
import type { FastifyInstance } from 'fastify';
import { SatelliteMetrics } from '../metrics/satellite-metrics';
import { observeToolCalls } from '../metrics/tool-call-observer';
import type { SessionHandlerFactory } from '../mcp/session-contract';

declare module 'fastify' {
  interface FastifyInstance {
    metrics: SatelliteMetrics;
  }
}

/** What the gauges read of other components when they are present (structural: no hard dependency). */
interface SessionCounter {
  size: number;
}
interface EventQueue {
  sink?: { size?: number };
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

  // Components that exist in this build feed the scrape-time gauges unless they provided their own.
  app.addHook('onReady', async () => {
    if (app.hasDecorator('servers')) {
      const servers = app.servers;
      if (!metrics.hasProvider('processStatuses')) metrics.provide({ processStatuses: () => servers.list().map((s) => s.status) });
      servers.events.on('restarted', (e) => metrics.recordRestart(e.teamId, e.serverSlug));
    }
    if (app.hasDecorator('sessions') && !metrics.hasProvider('sessions')) {
      const sessions = app.getDecorator<SessionCounter>('sessions');
      metrics.provide({ sessions: () => sessions.size });
    }
    // One place times every tools/call (team gateway and pass-through): the latency histogram
    // here, and the audit record when the audit trail exists.
    if (app.hasDecorator('sessionHandlers')) {
      const slugsOf = (teamId: string) => new Set(Object.values(app.configStore.current.mcp_servers).filter((c) => c.team_id === teamId).map((c) => c.server_slug));
      observeToolCalls(app.getDecorator<SessionHandlerFactory>('sessionHandlers'), slugsOf, (r) => {
        metrics.observeToolCall(r.teamId, r.serverSlug, r.seconds, r.outcome);
        if (app.hasDecorator('audit')) {
          app.audit.record('tool.called', {
            team: r.teamId, user: r.userId, session: r.sessionId, server: r.serverSlug, tool: r.tool,
            durationMs: Math.round(r.seconds * 1000), outcome: r.outcome, arguments: r.arguments, error: r.error
          });
        }
      });
    }
    if (app.hasDecorator('events') && !metrics.hasProvider('eventQueueDepth')) {
      const sink = app.getDecorator<EventQueue>('events').sink;
      if (typeof sink?.size === 'number') metrics.provide({ eventQueueDepth: () => sink.size ?? 0 });
    }
  });
}, { name: 'metrics' });
