// Streamable HTTP (2025-03-26 … 2025-11-25): POST, GET and DELETE on one MCP endpoint.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ErrorCode, errorResponse, type JsonRpcRequest, type JsonRpcResponse } from '../mcp/jsonrpc';
import { allowsBatches, isSupportedProtocolVersion } from '../mcp/protocol';
import type { SessionTarget } from '../mcp/session-contract';
import { idOf, parseBody } from './body';
import { authorizeAll, identityOf, openSession, sendNotFound, sendUnknownTarget, type TransportDeps } from './deps';
import { dispatch, serveRequest } from './dispatch';
import { EventLog } from './event-log';
import { acceptsBoth, acceptsEventStream, isJsonContentType, sendJsonRpcError } from './http-guards';
import { PostExchange } from './post-exchange';
import type { McpSession } from './session';
import { SessionLimitError } from './session-store';
import { writeSseHead } from './sse-head';
import { sseFrame } from './sse-stream';

function header(req: FastifyRequest, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/** 400 for an MCP-Protocol-Version we do not serve; any supported value is accepted. */
function badProtocolVersion(req: FastifyRequest, reply: FastifyReply): boolean {
  const v = header(req, 'mcp-protocol-version');
  if (v === undefined || isSupportedProtocolVersion(v)) return false;
  sendJsonRpcError(reply, 400, ErrorCode.ConnectionClosed, `Bad Request: unsupported MCP-Protocol-Version: ${v}`);
  return true;
}

/** The session named by Mcp-Session-Id for this caller and target (restored if saved by a previous run); answers 400/404/503 itself. */
async function findSession(deps: TransportDeps, req: FastifyRequest, reply: FastifyReply, target: SessionTarget): Promise<McpSession | undefined> {
  const id = header(req, 'mcp-session-id');
  if (id === undefined) {
    sendJsonRpcError(reply, 400, ErrorCode.ConnectionClosed, 'Bad Request: Mcp-Session-Id header is required');
    return undefined;
  }
  let session: McpSession | undefined;
  try {
    session = await deps.sessions.find(id, identityOf(req), target, 'streamable-http', { userAgent: req.headers['user-agent'], ipAddress: req.ip });
  } catch (e) {
    if (!(e instanceof SessionLimitError)) throw e;
    reply.header('retry-after', String(e.retryAfterSeconds));
    sendJsonRpcError(reply, 503, ErrorCode.ConnectionClosed, e.message);
    return undefined;
  }
  if (session === undefined) sendNotFound(reply);
  return session;
}

async function initializeSession(deps: TransportDeps, req: FastifyRequest, reply: FastifyReply, target: SessionTarget, init: JsonRpcRequest): Promise<FastifyReply> {
  if (header(req, 'mcp-session-id') !== undefined) {
    return sendJsonRpcError(reply, 400, ErrorCode.InvalidRequest, 'Invalid Request: initialize must be sent without Mcp-Session-Id');
  }
  const session = openSession(deps, reply, identityOf(req), target, 'streamable-http');
  if (session === undefined) return reply;
  let answer: JsonRpcResponse | undefined;
  await serveRequest(session, init, { related: () => undefined, respond: (r) => { answer = r; } });
  if (!session.initializeDone) {
    deps.sessions.delete(session, 'initialize failed');
    return reply.code(200).send(answer);
  }
  deps.sessions.announce(session);
  return reply.code(200).header('mcp-session-id', session.id).send(answer);
}

export async function handlePost(deps: TransportDeps, req: FastifyRequest, reply: FastifyReply, target: SessionTarget): Promise<FastifyReply> {
  if (!acceptsBoth(req)) return sendJsonRpcError(reply, 406, ErrorCode.ConnectionClosed, 'Not Acceptable: Accept must list application/json and text/event-stream');
  if (!isJsonContentType(req)) return sendJsonRpcError(reply, 415, ErrorCode.ConnectionClosed, 'Unsupported Media Type: Content-Type must be application/json');
  const parsed = parseBody(req.body);
  if (!parsed.ok) return sendJsonRpcError(reply, 400, parsed.code, parsed.message);
  const { batch, messages, initialize: init } = parsed;
  if (!authorizeAll(deps, req, reply, messages)) return reply;
  if (!deps.handlers.exists(target, identityOf(req))) return sendUnknownTarget(reply, target);

  if (init !== undefined) {
    if (batch) return sendJsonRpcError(reply, 400, ErrorCode.InvalidRequest, 'Invalid Request: initialize must not be part of a batch');
    return initializeSession(deps, req, reply, target, init);
  }
  const session = await findSession(deps, req, reply, target);
  if (session === undefined) return reply;
  if (badProtocolVersion(req, reply)) return reply;
  if (batch && !allowsBatches(session.protocolVersion)) {
    return sendJsonRpcError(reply, 400, ErrorCode.InvalidRequest, `Invalid Request: JSON-RPC batches are not supported in protocol version ${session.protocolVersion}`);
  }
  session.touch();
  if (!batch && parsed.invalid === 1) {
    return reply.code(400).send(errorResponse(idOf(messages[0]!.msg), ErrorCode.InvalidRequest, 'Invalid Request: not a JSON-RPC 2.0 message'));
  }
  if (parsed.requests === 0 && parsed.invalid === 0) {
    for (const m of messages) void dispatch(session, m.msg, m.kind!, session.standaloneExchange);
    return reply.code(202).send();
  }
  const exchange = new PostExchange(reply, session, parsed.requests + parsed.invalid, batch);
  for (const m of messages) {
    if (m.kind === undefined) exchange.respond(errorResponse(idOf(m.msg), ErrorCode.InvalidRequest, 'Invalid Request: not a JSON-RPC 2.0 message'));
    else void dispatch(session, m.msg, m.kind, exchange);
  }
  const body = await exchange.done;
  return body === undefined ? reply : reply.code(200).type('application/json').send(body);
}

export async function handleGet(deps: TransportDeps, req: FastifyRequest, reply: FastifyReply, target: SessionTarget): Promise<FastifyReply> {
  if (!acceptsEventStream(req)) return sendJsonRpcError(reply, 406, ErrorCode.ConnectionClosed, 'Not Acceptable: Accept must list text/event-stream');
  const session = await findSession(deps, req, reply, target);
  if (session === undefined || badProtocolVersion(req, reply)) return reply;
  const lastEventId = header(req, 'last-event-id');
  session.touch();
  if (lastEventId === undefined) {
    if (session.standalone.connected) return sendJsonRpcError(reply, 409, ErrorCode.ConnectionClosed, 'Conflict: only one GET stream per session');
    writeSseHead(reply);
    session.standalone.attach(reply.raw);
    session.primeStream(session.standalone);
    return reply;
  }
  const pos = EventLog.parse(lastEventId);
  if (pos === undefined || session.log === undefined) return sendJsonRpcError(reply, 400, ErrorCode.ConnectionClosed, 'Bad Request: unknown Last-Event-ID');
  // A request stream cut by a restart of the satellite is gone (its stream number may be reused).
  if (pos.streamNo !== 0 && pos.seq < session.log.firstSeq) return reply.code(204).send();
  // Replay only what was sent on the stream that was cut, then continue it if it is still open.
  const stream = pos.streamNo === 0 ? session.standalone : session.streams.get(pos.streamNo);
  const missed = session.log.since(pos);
  const live = stream !== undefined && !stream.ended;
  // A finished stream with nothing left to replay: 204, so clients stop resuming it (an empty
  // 200 stream would make them reconnect again and again, e.g. after a cancelled request).
  if (!live && missed.length === 0) return reply.code(204).send();
  writeSseHead(reply);
  for (const e of missed) reply.raw.write(sseFrame(e.data, e.id));
  if (live) stream.attach(reply.raw);
  else reply.raw.end();
  return reply;
}

export async function handleDelete(deps: TransportDeps, req: FastifyRequest, reply: FastifyReply, target: SessionTarget): Promise<FastifyReply> {
  // A saved session of the previous run is forgotten without being restored (no server started to end it).
  const id = header(req, 'mcp-session-id');
  if (id !== undefined && deps.sessions.forgetSaved(id, identityOf(req), target, 'streamable-http')) return reply.code(200).send();
  const session = await findSession(deps, req, reply, target);
  if (session === undefined) return reply;
  deps.sessions.delete(session, 'client terminated the session');
  return reply.code(200).send();
}
