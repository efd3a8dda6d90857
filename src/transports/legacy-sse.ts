// Legacy HTTP+SSE (2024-11-05): GET opens the session's only stream and names the POST endpoint;
// every response travels on that stream, POSTs are answered 202 at once.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ErrorCode, errorResponse } from '../mcp/jsonrpc';
import type { SessionTarget } from '../mcp/session-contract';
import { idOf, parseBody } from './body';
import { authorizeAll, identityOf, openSession, sendNotFound, sendUnknownTarget, type TransportDeps } from './deps';
import { dispatch } from './dispatch';
import { isJsonContentType, sendJsonRpcError } from './http-guards';
import { writeSseHead } from './sse-head';
import { sseFrame } from './sse-stream';

export async function handleSseOpen(deps: TransportDeps, req: FastifyRequest, reply: FastifyReply, target: SessionTarget, messagePath: string): Promise<FastifyReply> {
  const identity = identityOf(req);
  if (!deps.handlers.exists(target, identity)) return sendUnknownTarget(reply, target);
  const session = openSession(deps, reply, identity, target, 'sse');
  if (session === undefined) return reply;
  writeSseHead(reply);
  session.standalone.attach(reply.raw);
  session.standalone.writeRaw(sseFrame(`${messagePath}?sessionId=${encodeURIComponent(session.id)}`, undefined, 'endpoint'));
  deps.sessions.announce(session);
  // No resumption in this transport: the stream is the session.
  reply.raw.once('close', () => deps.sessions.delete(session, 'client disconnected'));
  return reply;
}

export async function handleSseMessage(deps: TransportDeps, req: FastifyRequest, reply: FastifyReply, target: SessionTarget): Promise<FastifyReply> {
  const q = req.query as { sessionId?: string; session?: string };
  const id = q.sessionId ?? q.session;
  if (id === undefined || id === '') return sendJsonRpcError(reply, 400, ErrorCode.ConnectionClosed, 'Bad Request: sessionId query parameter is required');
  const session = deps.sessions.get(id, identityOf(req), target, 'sse');
  if (session === undefined) return sendNotFound(reply);
  if (!isJsonContentType(req)) return sendJsonRpcError(reply, 415, ErrorCode.ConnectionClosed, 'Unsupported Media Type: Content-Type must be application/json');
  const parsed = parseBody(req.body);
  if (!parsed.ok) return sendJsonRpcError(reply, 400, parsed.code, parsed.message);
  if (!authorizeAll(deps, req, reply, parsed.messages)) return reply;
  session.touch();
  const out = session.standaloneExchange;
  for (const m of parsed.messages) {
    if (m.kind === undefined) out.respond(errorResponse(idOf(m.msg), ErrorCode.InvalidRequest, 'Invalid Request: not a JSON-RPC 2.0 message'));
    else void dispatch(session, m.msg, m.kind, out);
  }
  return reply.code(202).type('text/plain').send('Accepted');
}
