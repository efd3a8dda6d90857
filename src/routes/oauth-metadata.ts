import type { FastifyInstance, FastifyRequest } from 'fastify';
import { SUPPORTED_SCOPES } from '../auth/scopes';
import { SLUG_PATTERN } from '../config/server-config';

const PRM_PATH = '/.well-known/oauth-protected-resource';

const prmSchema = {
  type: 'object',
  required: ['resource', 'scopes_supported', 'bearer_methods_supported'],
  properties: {
    resource: { type: 'string' },
    authorization_servers: { type: 'array', items: { type: 'string' } },
    scopes_supported: { type: 'array', items: { type: 'string' } },
    bearer_methods_supported: { type: 'array', items: { type: 'string' } },
    resource_name: { type: 'string' },
    resource_documentation: { type: 'string' }
  }
} as const;

const asSchema = {
  type: 'object',
  required: ['issuer'],
  additionalProperties: true,
  properties: { issuer: { type: 'string' } }
} as const;

/**
 * RFC 9728 protected resource metadata (root and path-inserted per MCP endpoint) and, in backend
 * mode, the backend's authorization server metadata re-published for 2025-03-26 clients.
 */
export default async function oauthMetadataRoutes(app: FastifyInstance): Promise<void> {
  const env = app.satellite.env;
  const base = (request: FastifyRequest): string => env.backend.satelliteUrl ?? `${request.protocol}://${request.host}`;
  const authorizationServers = env.oauth.authorizationServers.length > 0 ? env.oauth.authorizationServers : env.backend.url ? [env.backend.url] : [];

  const metadata = (request: FastifyRequest, resourcePath: string) => ({
    resource: `${base(request)}${resourcePath}`,
    ...(authorizationServers.length > 0 ? { authorization_servers: authorizationServers } : {}),
    scopes_supported: [...SUPPORTED_SCOPES],
    bearer_methods_supported: ['header'],
    resource_name: 'Satellite MCP gateway',
    resource_documentation: `${base(request)}/documentation`
  });
  const schema = (summary: string, params?: object) => ({ summary, tags: ['oauth'], ...(params ? { params } : {}), response: { 200: prmSchema } });

  app.get(PRM_PATH, { schema: schema('Protected resource metadata (RFC 9728) of the satellite') }, async (request) => metadata(request, ''));
  app.get(`${PRM_PATH}/mcp`, { schema: schema('Protected resource metadata of the team endpoint /mcp') }, async (request) => metadata(request, '/mcp'));
  app.get<{ Params: { slug: string } }>(`${PRM_PATH}/servers/:slug/mcp`, {
    schema: schema('Protected resource metadata of one server endpoint', { type: 'object', required: ['slug'], properties: { slug: { type: 'string', pattern: SLUG_PATTERN } } })
  }, async (request) => metadata(request, `/servers/${request.params.slug}/mcp`));

  const backend = env.backend.url;
  if (!backend) return;
  // The DeployStack backend is the authorization server; its endpoints are fixed (reference §1).
  const asMetadata = {
    issuer: backend,
    authorization_endpoint: `${backend}/api/oauth2/auth`,
    token_endpoint: `${backend}/api/oauth2/token`,
    introspection_endpoint: `${backend}/api/oauth2/introspect`,
    registration_endpoint: `${backend}/api/oauth2/register`,
    response_types_supported: ['code'],
    grant_types_supported: ['authorization_code', 'refresh_token'],
    code_challenge_methods_supported: ['S256'],
    token_endpoint_auth_methods_supported: ['none', 'client_secret_basic', 'client_secret_post'],
    scopes_supported: [...SUPPORTED_SCOPES, 'offline_access']
  };
  const asRoute = { schema: { summary: 'Authorization server metadata of the backend, re-published', tags: ['oauth'], response: { 200: asSchema } } };
  app.get('/.well-known/oauth-authorization-server', asRoute, async () => asMetadata);
  // Some clients (VS Code) look here instead.
  app.get('/.well-known/openid-configuration', asRoute, async () => asMetadata);
}
