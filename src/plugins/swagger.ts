import fp from 'fastify-plugin';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';
import { VERSION } from '../version';

// Registered before every route group so the OpenAPI document covers all of them.
export default fp(async (app: FastifyInstance) => {
  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: { title: 'Satellite API', description: 'MCP edge worker: team gateway, per-server endpoints, status and operations', version: VERSION },
      components: { securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer' } } }
    }
  });
  await app.register(swaggerUi, { routePrefix: '/documentation' });
}, { name: 'swagger' });
