// Serves parsed JSON-RPC messages on a session: the transport-level methods (initialize, ping,
// cancellation, client responses) here, everything else through the session's handler.
import {
  ErrorCode, errorResponse, JsonRpcError, successResponse,
  type JsonObject, type JsonRpcMessage, type JsonRpcNotification, type JsonRpcRequest, type JsonRpcResponse
} from '../mcp/jsonrpc';
import { negotiateProtocolVersion } from '../mcp/protocol';
import type { ClientIdentity, RequestContext } from '../mcp/session-contract';
import type { Exchange, McpSession } from './session';

class RequestCtx implements RequestContext {
  constructor(
    readonly sessionId: string,
    readonly identity: ClientIdentity,
    readonly signal: AbortSignal,
    private readonly session: McpSession,
    private readonly exchange: Exchange
  ) {}

  sendNotification(n: JsonRpcNotification): void {
    if (!this.signal.aborted) this.exchange.related(n);
  }

  sendRequest(method: string, params?: JsonObject, signal?: AbortSignal): Promise<JsonObject> {
    const s = signal === undefined ? this.signal : AbortSignal.any([this.signal, signal]);
    return this.session.requestClient(method, params, (m) => this.exchange.related(m), s);
  }
}

function toErrorResponse(req: JsonRpcRequest, err: unknown): JsonRpcResponse {
  if (err instanceof JsonRpcError) return errorResponse(req.id, err.code, err.message, err.data);
  return errorResponse(req.id, ErrorCode.InternalError, err instanceof Error ? err.message : 'Internal error');
}

/** A cancelled request gets no answer; one cut short by the session's end learns why. */
function abortAnswer(req: JsonRpcRequest, signal: AbortSignal): JsonRpcResponse | undefined {
  return signal.reason instanceof JsonRpcError ? toErrorResponse(req, signal.reason) : undefined;
}

async function initialize(session: McpSession, req: JsonRpcRequest): Promise<JsonObject> {
  if (session.initializeDone) throw new JsonRpcError(ErrorCode.InvalidRequest, 'Invalid Request: the session is already initialized');
  const p = req.params ?? {};
  const caps = p.capabilities ?? {};
  if (typeof p.protocolVersion !== 'string' || typeof caps !== 'object' || caps === null || Array.isArray(caps)) {
    throw new JsonRpcError(ErrorCode.InvalidParams, 'Invalid params: initialize needs protocolVersion (string) and capabilities (object)');
  }
  const version = negotiateProtocolVersion(p.protocolVersion);
  session.protocolVersion = version;
  session.clientCapabilities = caps as JsonObject;
  const clientInfo = typeof p.clientInfo === 'object' && p.clientInfo !== null ? p.clientInfo as JsonObject : undefined;
  session.clientInfo = clientInfo;
  const result = await session.handler!.initialize({ protocolVersion: version, capabilities: session.clientCapabilities, clientInfo });
  session.initializeDone = true;
  return { ...result, protocolVersion: version };
}

/** Serves one request; its messages and response go to `exchange` in order. Never throws. */
export async function serveRequest(session: McpSession, req: JsonRpcRequest, exchange: Exchange): Promise<void> {
  session.touch();
  if (req.method === 'ping') return exchange.respond(successResponse(req.id, {}));
  if (req.method === 'initialize') {
    try {
      exchange.respond(successResponse(req.id, await initialize(session, req)));
    } catch (e) {
      exchange.respond(toErrorResponse(req, e));
    }
    return;
  }
  if (!session.initializeDone) return exchange.respond(errorResponse(req.id, ErrorCode.InvalidRequest, 'Invalid Request: the session is not initialized'));
  if (session.inflight.has(req.id)) return exchange.respond(errorResponse(req.id, ErrorCode.InvalidRequest, 'Invalid Request: a request with this id is already in progress'));
  const ac = new AbortController();
  session.inflight.set(req.id, ac);
  session.requestCount++;
  if (req.method === 'tools/call') session.toolCallCount++;
  try {
    const result = await session.handler!.handleRequest(req, new RequestCtx(session.id, session.identity, ac.signal, session, exchange));
    exchange.respond(ac.signal.aborted ? abortAnswer(req, ac.signal) : successResponse(req.id, result));
  } catch (e) {
    exchange.respond(ac.signal.aborted ? abortAnswer(req, ac.signal) : toErrorResponse(req, e));
  } finally {
    if (session.inflight.get(req.id) === ac) session.inflight.delete(req.id);
    session.touch();
  }
}

export function acceptNotification(session: McpSession, n: JsonRpcNotification): void {
  session.touch();
  if (n.method === 'notifications/cancelled') {
    session.cancel(n.params?.requestId);
    return;
  }
  if (n.method === 'notifications/initialized') session.initialized = true;
  try {
    session.handler?.handleNotification(n);
  } catch {
    // notifications are never answered, not even with an error
  }
}

/** Dispatches one already classified message; requests settle through `exchange`. */
export function dispatch(session: McpSession, msg: JsonRpcMessage, kind: 'request' | 'notification' | 'response', exchange: Exchange): Promise<void> | undefined {
  if (kind === 'request') return serveRequest(session, msg as JsonRpcRequest, exchange);
  if (kind === 'notification') acceptNotification(session, msg as JsonRpcNotification);
  else session.acceptResponse(msg as JsonRpcResponse);
  return undefined;
}
