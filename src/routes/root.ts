import type { FastifyInstance } from 'fastify';
import { VERSION } from '../version';

const startedAt = Date.now();

export default async function rootRoutes(app: FastifyInstance): Promise<void> {
  const { showVersion, showUptime } = app.satellite.env.status;
  app.get('/', {
    schema: {
      summary: 'Liveness and basic status',
      tags: ['status'],
      response: {
        200: {
          type: 'object',
          required: ['service', 'status', 'timestamp'],
          properties: {
            service: { type: 'string' },
            status: { type: 'string', enum: ['healthy', 'degraded', 'error'] },
            timestamp: { type: 'string' },
            version: { type: 'string' },
            uptime: { type: 'number', description: 'seconds since start' },
            mode: { type: 'string', enum: ['standalone', 'backend'] }
          }
        }
      }
    }
  }, async () => ({
    service: 'satellite',
    status: 'healthy' as const,
    timestamp: new Date().toISOString(),
    ...(showVersion ? { version: VERSION } : {}),
    ...(showUptime ? { uptime: Math.round((Date.now() - startedAt) / 1000) } : {}),
    mode: app.satellite.env.backend.url ? 'backend' as const : 'standalone' as const
  }));
}
