import type { FastifyInstance } from 'fastify';

const schema = {
  summary: 'Control-plane link status',
  description: 'Whether the satellite is connected to its DeployStack backend. Reveals no URL, key or error text (the route is unauthenticated, like the original).',
  tags: ['status'],
  response: {
    200: {
      type: 'object',
      required: ['mode', 'connection_status', 'pending_events'],
      properties: {
        mode: { type: 'string', enum: ['standalone', 'backend'] },
        connection_status: { type: 'string', enum: ['not_configured', 'connecting', 'connected', 'stopped'] },
        registered: { type: 'boolean' },
        last_heartbeat_at: { type: 'string', format: 'date-time' },
        pending_events: { type: 'integer', description: 'events waiting for delivery (memory and disk)' }
      }
    }
  }
} as const;

export default async function backendStatusRoute(app: FastifyInstance): Promise<void> {
  app.get('/api/status/backend', { schema }, async () => {
    const link = app.backend;
    if (!link) return { mode: 'standalone' as const, connection_status: 'not_configured' as const, pending_events: 0 };
    return {
      mode: 'backend' as const,
      connection_status: link.state,
      registered: link.apiKey !== undefined,
      ...(link.lastHeartbeatAt ? { last_heartbeat_at: link.lastHeartbeatAt } : {}),
      pending_events: app.events.sink?.size ?? 0
    };
  });
}
