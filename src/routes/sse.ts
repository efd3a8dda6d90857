import fp from 'fastify-plugin';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { SessionTarget } from '../mcp/session-contract';
import { identityOf } from '../transports/deps';
import { handleSseMessage, handleSseOpen } from '../transports/legacy-sse';
import { transportContext } from '../transports/route-context';
import { teamTarget } from '../transports/team-target';

const slugOf = (req: FastifyRequest): string => (req.params as { slug: string }).slug;
const slugParams = { type: 'object', required: ['slug'], properties: { slug: { type: 'string' } } } as const;
const messageQuery = {
  type: 'object',
  properties: {
    sessionId: { type: 'string', description: 'the session named by the endpoint event' },
    session: { type: 'string', description: 'DeployStack\'s spelling of sessionId' }
  }
} as const;

// Legacy HTTP+SSE (2024-11-05): /sse + /message for the team, /servers/:slug/sse + .../message for one server.
export default fp(async (app: FastifyInstance) => {
  const { deps, onRequest } = transportContext(app);
  const doc = (summary: string, extra: object = {}) => ({ summary, tags: ['mcp-legacy'], security: [{ bearerAuth: [] }], ...extra });

  app.get('/sse', { onRequest, schema: doc('Legacy SSE stream (team endpoint); first event names the POST endpoint') },
    (req, reply) => handleSseOpen(deps, req, reply, teamTarget(req), '/message'));
  app.post('/message', { onRequest, schema: doc('Legacy SSE: post a JSON-RPC message (answer comes on the stream)', { querystring: messageQuery }) },
    (req, reply) => handleSseMessage(deps, req, reply, teamTarget(req)));

  const server = (req: FastifyRequest): SessionTarget => ({ kind: 'server', teamId: identityOf(req).teamId, serverSlug: slugOf(req) });
  app.get('/servers/:slug/sse', { onRequest, schema: doc('Legacy SSE stream for one server', { params: slugParams }) },
    (req, reply) => handleSseOpen(deps, req, reply, server(req), `/servers/${encodeURIComponent(slugOf(req))}/message`));
  app.post('/servers/:slug/message', { onRequest, schema: doc('Legacy SSE: post a message for one server', { params: slugParams, querystring: messageQuery }) },
    (req, reply) => handleSseMessage(deps, req, reply, server(req)));
}, { name: 'sse-routes', encapsulate: true, dependencies: ['config', 'auth', 'transports', 'session-handlers'] });
