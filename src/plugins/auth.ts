import fp from 'fastify-plugin';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ClientIdentity } from '../mcp/session-contract';
import { AuthService, type AuthServiceOptions } from '../auth/service';
import { AuthError, TokenRejectedError } from '../auth/errors';
import { mcpResourcePath, resourceMetadataUrl, wwwAuthenticate } from '../auth/challenge';
import { readBearer } from '../auth/bearer';
import { requiredScope, SUPPORTED_SCOPES } from '../auth/scopes';

declare module 'fastify' {
  interface FastifyInstance {
    auth: AuthService;
    /** onRequest hook for every MCP route: sets request.identity or answers 401/429/503. */
    authenticateMcp: (request: FastifyRequest, reply: FastifyReply) => Promise<FastifyReply | undefined>;
    /** Call after parsing a JSON-RPC message; throws AuthError (403 insufficient_scope) when the token may not. */
    authorizeMcpMethod: (request: FastifyRequest, method: string) => void;
    /** Sends an AuthError as its HTTP status, headers and JSON-RPC body. */
    sendAuthError: (reply: FastifyReply, err: AuthError, id?: string | number | null) => FastifyReply;
  }
  interface FastifyRequest {
    /** Set by app.authenticateMcp; only read it on routes that run that hook. */
    identity: ClientIdentity;
  }
}

export type AuthPluginOptions = AuthServiceOptions;

export default fp(async (app: FastifyInstance, opts: AuthPluginOptions) => {
  const service = new AuthService(app, opts);
  app.decorate('auth', service);
  app.decorateRequest('identity', undefined as unknown as ClientIdentity);
  app.addHook('onClose', async () => service.close());

  const baseUrl = (request: FastifyRequest): string =>
    app.satellite.env.backend.satelliteUrl ?? `${request.protocol}://${request.host}`;
  const allScopes = SUPPORTED_SCOPES.join(' ');

  function authError(request: FastifyRequest, kind: AuthError['kind'], message: string, extra: { scope?: string; retryAfter?: number } = {}): AuthError {
    const metadata = resourceMetadataUrl(baseUrl(request), mcpResourcePath(request.url));
    const headers: Record<string, string> = {};
    if (kind === 'unavailable' || kind === 'rate_limited') {
      headers['retry-after'] = String(extra.retryAfter ?? 1);
    } else {
      const error = kind === 'missing_token' ? undefined : kind;
      headers['www-authenticate'] = wwwAuthenticate({ resourceMetadata: metadata, scope: extra.scope ?? allScopes, error, description: error ? message : undefined });
    }
    const data: Record<string, unknown> = { resource_metadata_uri: metadata };
    if (headers['www-authenticate']) data.scopes_required = (extra.scope ?? allScopes).split(' ');
    return new AuthError(kind, message, headers, data);
  }

  const sendAuthError = (reply: FastifyReply, err: AuthError, id: string | number | null = null): FastifyReply =>
    reply.code(err.statusCode).headers(err.headers).type('application/json').send(err.toJsonRpc(id));
  app.decorate('sendAuthError', sendAuthError);

  function fail(request: FastifyRequest, reply: FastifyReply, err: AuthError, tokenPresented: boolean, teamId?: string): FastifyReply {
    const level = err.kind === 'unavailable' ? 'error' : 'info';
    request.log[level]({ reason: err.kind, tokenPresented, teamId }, `MCP request refused: ${err.message}`);
    service.recordFailure(request, err.kind, err.statusCode, teamId);
    return sendAuthError(reply, err);
  }

  app.decorate('authenticateMcp', async (request: FastifyRequest, reply: FastifyReply) => {
    const bearer = readBearer(request.headers.authorization);
    let identity: ClientIdentity | undefined;
    if (bearer.kind === 'malformed') {
      return fail(request, reply, authError(request, 'invalid_request', bearer.reason), true);
    }
    if (bearer.kind === 'none') {
      identity = service.anonymousIdentity(request);
      if (!identity) return fail(request, reply, authError(request, 'missing_token', 'Authentication required: send Authorization: Bearer <token>'), false);
    } else {
      try {
        identity = await service.verify(bearer.token);
      } catch (err) {
        if (!(err instanceof TokenRejectedError)) throw err;
        const kind = err.kind === 'unavailable' ? 'unavailable' : 'invalid_token';
        return fail(request, reply, authError(request, kind, err.message, { retryAfter: err.retryAfterSeconds }), true);
      }
    }
    const limited = service.limits.admit(identity.teamId, request, reply);
    if (limited !== undefined) {
      return fail(request, reply, authError(request, 'rate_limited', limited.message, { retryAfter: limited.retryAfterSeconds }), bearer.kind === 'token', identity.teamId);
    }
    request.identity = identity;
    return undefined;
  });

  app.decorate('authorizeMcpMethod', (request: FastifyRequest, method: string) => {
    const scope = requiredScope(method);
    if (request.identity?.scopes.includes(scope)) return;
    throw authError(request, 'insufficient_scope', `The token lacks the ${scope} scope needed for ${method}`, { scope });
  });
}, { name: 'auth', dependencies: ['config'] });
