import type { FastifyInstance } from 'fastify';
import { metricsAllowList } from '../metrics/access';

// Operational data (team ids, server slugs, load): loopback only unless METRICS_ALLOWED_IPS says otherwise.
export default async function metricsRoutes(app: FastifyInstance): Promise<void> {
  const allowed = metricsAllowList(app.satellite.env.metricsAllowedIps);
  app.get('/metrics', {
    schema: {
      summary: 'Prometheus metrics (loopback and METRICS_ALLOWED_IPS only)',
      tags: ['operations'],
      response: {
        200: { type: 'string', description: 'Prometheus text exposition format' },
        403: { type: 'object', properties: { error: { type: 'string' }, message: { type: 'string' } } }
      }
    },
    onRequest: async (request, reply) => {
      if (!allowed(request.socket.remoteAddress ?? request.ip)) {
        return reply.code(403).send({ error: 'Forbidden', message: '/metrics is served to loopback and METRICS_ALLOWED_IPS only' });
      }
    }
  }, async (_request, reply) => {
    const body = await app.metrics.scrape();
    return reply.type(app.metrics.contentType).send(body);
  });
}
