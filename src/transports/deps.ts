import type { FastifyReply, FastifyRequest } from 'fastify';
import { AuthError } from '../auth/errors';
import { ErrorCode, JsonRpcError, type JsonRpcId, type JsonRpcRequest } from '../mcp/jsonrpc';
import type { ParsedMessage } from './body';
import type { ClientIdentity, SessionHandlerFactory, SessionTarget } from '../mcp/session-contract';
import { sendJsonRpcError } from './http-guards';
import type { McpSession, TransportKind } from './session';
import { SessionLimitError, type SessionStore } from './session-store';

/** What the transport handlers need from the app, passed in (no globals). */
export interface TransportDeps {
  sessions: SessionStore;
  handlers: SessionHandlerFactory;
  /** Throws AuthError when the caller's token may not call `method` (403). */
  authorize(req: FastifyRequest, method: string): void;
  sendAuthError(reply: FastifyReply, err: AuthError, id?: JsonRpcId | null): FastifyReply;
}

export function identityOf(req: FastifyRequest): ClientIdentity {
  // The auth hook runs on every transport route; a missing identity is a wiring bug, never "anonymous".
  if (req.identity === undefined) throw new Error('MCP route reached without an authenticated identity');
  return req.identity;
}

/** The SDK's code for "Session not found" (implementation-defined range). */
export const SESSION_NOT_FOUND = -32001;

export function sendNotFound(reply: FastifyReply, what = 'Session not found'): FastifyReply {
  return sendJsonRpcError(reply, 404, SESSION_NOT_FOUND, what);
}

export function sendUnknownTarget(reply: FastifyReply, target: SessionTarget): FastifyReply {
  return sendNotFound(reply, target.kind === 'server' ? `Unknown MCP server: ${target.serverSlug}` : 'Unknown team');
}

/** A new session with its handler; answers 503/404/500 itself and returns undefined on failure. */
export function openSession(deps: TransportDeps, reply: FastifyReply, identity: ClientIdentity, target: SessionTarget, transport: TransportKind): McpSession | undefined {
  let session: McpSession;
  const req = reply.request;
  try {
    session = deps.sessions.create(identity, target, transport, { userAgent: req.headers['user-agent'], ipAddress: req.ip });
  } catch (e) {
    if (!(e instanceof SessionLimitError)) throw e;
    reply.header('retry-after', String(e.retryAfterSeconds));
    sendJsonRpcError(reply, 503, ErrorCode.ConnectionClosed, e.message);
    return undefined;
  }
  try {
    session.handler = deps.handlers.create(target, identity, session.outbound);
  } catch (e) {
    deps.sessions.delete(session, 'handler unavailable');
    if (e instanceof JsonRpcError) sendNotFound(reply, e.message);
    else throw e;
    return undefined;
  }
  return session;
}

/** Runs the scope check for every request of a body; answers 403 and returns false when one fails. */
export function authorizeAll(deps: TransportDeps, req: FastifyRequest, reply: FastifyReply, messages: ParsedMessage[]): boolean {
  for (const m of messages) {
    if (m.kind !== 'request') continue;
    const r = m.msg as JsonRpcRequest;
    try {
      deps.authorize(req, r.method);
    } catch (e) {
      if (!(e instanceof AuthError)) throw e;
      deps.sendAuthError(reply, e, r.id);
      return false;
    }
  }
  return true;
}
