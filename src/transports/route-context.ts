import type { FastifyError, FastifyInstance } from 'fastify';
import { ErrorCode } from '../mcp/jsonrpc';
import { rawBodyParser } from './body';
import type { TransportDeps } from './deps';
import { originGuard, originPolicy, sendJsonRpcError } from './http-guards';

/**
 * Shared by the transport route groups (encapsulated contexts): raw bodies, JSON-RPC shaped
 * errors instead of Fastify's, the Origin/Host guard before authentication, and the deps.
 */
export function transportContext(app: FastifyInstance): { deps: TransportDeps; onRequest: Array<typeof app.authenticateMcp> } {
  rawBodyParser(app);
  app.setErrorHandler((err: FastifyError, req, reply) => {
    const status = err.statusCode ?? 500;
    if (status === 413) return sendJsonRpcError(reply, 413, ErrorCode.InvalidRequest, `Request body too large (limit ${app.satellite.env.bodyLimit} bytes)`);
    if (status >= 500) {
      req.log.error({ err }, 'MCP transport error');
      return sendJsonRpcError(reply, 500, ErrorCode.InternalError, 'Internal error');
    }
    return sendJsonRpcError(reply, status, ErrorCode.InvalidRequest, err.message);
  });
  const deps: TransportDeps = {
    sessions: app.sessions,
    handlers: app.sessionHandlers,
    authorize: (req, method) => app.authorizeMcpMethod(req, method),
    sendAuthError: (reply, err, id) => app.sendAuthError(reply, err, id ?? null)
  };
  return { deps, onRequest: [originGuard(originPolicy(app.satellite.env)), app.authenticateMcp] };
}
