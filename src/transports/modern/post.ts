// A modern (2026-07-28) POST: stateless, served by a transient handler of the caller's target.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { AuthError } from '../../auth/errors';
import { BridgedCall, validateInputResponses } from '../../gateway/mrtr-call';
import { bindingOf } from '../../gateway/mrtr-store';
import { LOG_LEVELS } from '../../gateway/passthrough-client';
import { ErrorCode, errorResponse, JsonRpcError, successResponse, type JsonObject, type JsonRpcNotification, type JsonRpcRequest } from '../../mcp/jsonrpc';
import { LATEST_PROTOCOL_VERSION } from '../../mcp/protocol';
import type { ClientIdentity, McpSessionHandler, SessionOutbound, SessionTarget } from '../../mcp/session-contract';
import type { ParsedMessages } from '../body';
import { identityOf, sendUnknownTarget } from '../deps';
import { targetKey } from '../session';
import type { ModernDeps } from './deps';
import { checkHeaders, requestMeta } from './headers';
import { handleListen } from './listen';
import { checkParamHeaders } from './param-headers';
import { ALL_SUPPORTED_VERSIONS, INPUT_METHODS, META, MODERN_METHODS, MODERN_VERSIONS } from './protocol';
import { ModernResponse, sendModernError } from './response';
import { backendRequest, completeResult, modernError, serverInfoMeta } from './results';

/** A transient handler has no stream of its own: unrelated messages have nowhere to go. */
const NO_OUTBOUND: SessionOutbound = {
  sendNotification: () => undefined,
  sendRequest: async () => { throw new JsonRpcError(ErrorCode.MethodNotFound, 'No unrelated server requests in the 2026-07-28 protocol'); }
};

/** How long listing the tools (for Mcp-Param-* checks) may take. */
const LIST_TIMEOUT_MS = 30_000;

/** The handler asks for every client feature; the bridge checks each request against what the client declared. */
const BRIDGED_CAPABILITIES: JsonObject = { sampling: {}, elicitation: {}, roots: {} };

interface Envelope { version: string; capabilities: JsonObject; clientInfo?: JsonObject; meta: JsonObject }

async function openHandler(deps: ModernDeps, target: SessionTarget, identity: ClientIdentity, env: Envelope, bridged: boolean): Promise<{ handler: McpSessionHandler; init: JsonObject }> {
  const handler = deps.handlers.create(target, identity, NO_OUTBOUND);
  try {
    const capabilities = bridged ? { ...env.capabilities, ...BRIDGED_CAPABILITIES } : env.capabilities;
    const init = await handler.initialize({ protocolVersion: LATEST_PROTOCOL_VERSION, capabilities, ...(env.clientInfo ? { clientInfo: env.clientInfo } : {}) });
    return { handler, init };
  } catch (e) {
    handler.close('initialize failed');
    throw e;
  }
}

async function discover(deps: ModernDeps, target: SessionTarget, identity: ClientIdentity, env: Envelope): Promise<JsonObject> {
  const { handler, init } = await openHandler(deps, target, identity, env, false);
  handler.close('discovered');
  return {
    supportedVersions: [...ALL_SUPPORTED_VERSIONS],
    capabilities: init.capabilities ?? {},
    ...(init.serverInfo === undefined ? {} : { serverInfo: init.serverInfo }),
    ...(init.instructions === undefined ? {} : { instructions: init.instructions }),
    _meta: serverInfoMeta(init.serverInfo),
    resultType: 'complete'
  };
}

function nameOf(r: JsonRpcRequest): string | undefined {
  const v = r.method === 'resources/read' ? r.params?.uri : r.params?.name;
  return typeof v === 'string' ? v : undefined;
}

/** Progress always; log messages only at or above the level the request asked for (none without one). */
function relatedFilter(env: Envelope): (n: JsonRpcNotification) => boolean {
  const level = env.meta[META.logLevel];
  const min = typeof level === 'string' ? LOG_LEVELS.indexOf(level) : -1;
  return (n) => n.method !== 'notifications/message' || (min >= 0 && LOG_LEVELS.indexOf(String(n.params?.level)) >= min);
}

async function serveCall(deps: ModernDeps, req: FastifyRequest, reply: FastifyReply, target: SessionTarget, r: JsonRpcRequest, env: Envelope): Promise<FastifyReply> {
  const identity = identityOf(req);
  const binding = bindingOf(identity, targetKey(target), r.method, nameOf(r));
  let call: BridgedCall | undefined;
  // Listening from the start: a client gone before the call began cancels it as well.
  const res = new ModernResponse(reply, () => call?.abort('the client closed the response stream'));
  try {
    const responses = validateInputResponses(r.params?.inputResponses);
    const state = r.params?.requestState;
    if (state !== undefined) {
      const parked = typeof state === 'string' ? deps.parked.take(state, binding) : undefined;
      if (parked === undefined) throw new JsonRpcError(ErrorCode.InvalidParams, 'Invalid params: requestState is unknown, expired or not valid for this request');
      call = parked;
      call.answer(responses);
    } else {
      const { handler } = await openHandler(deps, target, identity, env, true);
      if (r.method === 'tools/call') {
        try {
          const key = JSON.stringify([identity.teamId, identity.userId ?? '', target]);
          const annotated = await deps.paramHeaders.get(key, handler, identity, AbortSignal.timeout(LIST_TIMEOUT_MS));
          checkParamHeaders(req, r.params?.arguments, annotated.get(String(r.params?.name)));
        } catch (e) {
          handler.close('refused');
          throw e;
        }
      }
      call = new BridgedCall(handler, identity, env.capabilities, INPUT_METHODS.has(r.method), responses);
      call.start(backendRequest(r));
    }
  } catch (e) {
    return sendModernError(reply, r.id, e);
  }
  const wanted = relatedFilter(env);
  call.onNotification = (n) => { if (wanted(n)) res.related(n); };
  if (reply.raw.destroyed) call.abort('the client closed the response stream');
  const outcome = await call.next();
  call.onNotification = () => undefined;
  if (reply.raw.destroyed) {
    call.abort('the client closed the response stream'); // nobody would ever retry a call parked now
    return res.abandon();
  }
  if (outcome.kind === 'complete') return res.finish(successResponse(r.id, completeResult(r, outcome.result)));
  if (outcome.kind === 'input') {
    const requestState = deps.parked.park(call, binding);
    return res.finish(successResponse(r.id, { resultType: 'input_required', inputRequests: outcome.inputRequests, requestState }));
  }
  const err = modernError(r, outcome.error);
  if (!res.streaming) return sendModernError(reply, r.id, err);
  const e = err instanceof JsonRpcError ? err : new JsonRpcError(ErrorCode.InternalError, err instanceof Error ? err.message : 'Internal error');
  return res.finish(errorResponse(r.id, e.code, e.message, e.data));
}

export async function handleModernPost(deps: ModernDeps, req: FastifyRequest, reply: FastifyReply, target: SessionTarget, parsed: ParsedMessages): Promise<FastifyReply> {
  const m = parsed.messages[0]!;
  if (parsed.batch || m.kind === undefined || m.kind === 'response') {
    const why = parsed.batch ? 'batches' : m.kind === 'response' ? 'responses' : 'non-JSON-RPC messages';
    return sendModernError(reply, null, new JsonRpcError(ErrorCode.InvalidRequest, `Invalid Request: 2026-07-28 clients must not POST ${why}`), 400);
  }
  if (m.kind === 'notification') return reply.code(202).send();
  const r = m.msg as JsonRpcRequest;
  let env: Envelope;
  try {
    env = requestMeta(r);
    checkHeaders(req, r, env.version);
    if (!MODERN_VERSIONS.includes(env.version)) {
      throw new JsonRpcError(ErrorCode.UnsupportedProtocolVersion, `Unsupported protocol version: ${env.version}`, { supported: [...ALL_SUPPORTED_VERSIONS], requested: env.version });
    }
  } catch (e) {
    return sendModernError(reply, r.id, e, 400);
  }
  try {
    deps.authorize(req, r.method);
  } catch (e) {
    if (!(e instanceof AuthError)) throw e;
    return deps.sendAuthError(reply, e, r.id);
  }
  if (!deps.handlers.exists(target, identityOf(req))) return sendUnknownTarget(reply, target);
  if (!MODERN_METHODS.has(r.method)) return sendModernError(reply, r.id, new JsonRpcError(ErrorCode.MethodNotFound, `Method not found: ${r.method}`));
  if (r.method === 'subscriptions/listen') return handleListen(deps, req, reply, target, r, env.capabilities);
  if (r.method === 'server/discover') {
    try {
      return reply.code(200).type('application/json').send(successResponse(r.id, await discover(deps, target, identityOf(req), env)));
    } catch (e) {
      return sendModernError(reply, r.id, e);
    }
  }
  return serveCall(deps, req, reply, target, r, env);
}
