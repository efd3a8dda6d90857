import type { FastifyInstance } from 'fastify';
import { isDirectLoopbackRequest } from '../auth/loopback';

/**
 * Administrative invalidation of the introspection cache. Only a local operator may call it: the
 * peer must be loopback and the request must not have come through a proxy.
 */
export default async function oauthCacheRoutes(app: FastifyInstance): Promise<void> {
  app.post<{ Body: { user_id?: string; all?: boolean } | undefined }>('/api/auth/cache/invalidate', {
    schema: {
      summary: 'Drop cached token introspection results: {user_id} for one user, {all: true} for everyone; loopback only',
      tags: ['oauth'],
      body: { type: 'object', additionalProperties: false, properties: { user_id: { type: 'string', minLength: 1 }, all: { type: 'boolean' } } },
      response: {
        200: { type: 'object', required: ['invalidated'], properties: { user_id: { type: 'string' }, invalidated: { type: 'integer' } } },
        400: { type: 'object', properties: { error: { type: 'string' }, message: { type: 'string' } } },
        403: { type: 'object', properties: { error: { type: 'string' }, message: { type: 'string' } } }
      }
    }
  }, async (request, reply) => {
    if (!isDirectLoopbackRequest(request)) {
      return reply.code(403).send({ error: 'forbidden', message: 'cache invalidation is only allowed from loopback' });
    }
    const userId = request.body?.user_id;
    // Clearing everything must be asked for explicitly: a misspelt field must not empty the cache.
    if (!userId && request.body?.all !== true) {
      return reply.code(400).send({ error: 'bad_request', message: 'send {"user_id": "<id>"} or {"all": true}' });
    }
    const invalidated = userId ? app.auth.invalidateUser(userId) : app.auth.cache.clear();
    request.log.info({ userId, invalidated }, 'introspection cache invalidated');
    return userId ? { user_id: userId, invalidated } : { invalidated };
  });
}
