// subscriptions/listen (2026-07-28): one long-lived POST stream per listener carrying the change
// notifications it opted in to, each tagged with its subscription id. Backed by a handler of the
// target like a 2025 session's GET stream, closed with the stream.
import { randomUUID } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ErrorCode, JsonRpcError, type JsonObject, type JsonRpcNotification, type JsonRpcRequest } from '../../mcp/jsonrpc';
import { LATEST_PROTOCOL_VERSION } from '../../mcp/protocol';
import type { McpSessionHandler, SessionTarget } from '../../mcp/session-contract';
import { identityOf } from '../deps';
import { writeSseHead } from '../sse-head';
import { sseFrame } from '../sse-stream';
import type { ModernDeps } from './deps';
import { META } from './protocol';
import { sendModernError } from './response';

/** Filter flag for each list_changed notification. */
const LIST_CHANGED: Readonly<Record<string, string>> = {
  'notifications/tools/list_changed': 'toolsListChanged',
  'notifications/prompts/list_changed': 'promptsListChanged',
  'notifications/resources/list_changed': 'resourcesListChanged'
};

/**
 * The listen streams open now, so that shutdown can end them (app.close must not wait on them);
 * capped per team like sessions, since they are exempt from the team's concurrency limit.
 */
export class ListenStreams {
  readonly #open = new Map<() => void, string>();
  readonly #perTeam = new Map<string, number>();

  constructor(private readonly maxPerTeam: number, readonly keepAliveMs: number) {}

  get size(): number {
    return this.#open.size;
  }

  /** False when the team has as many open as it may. */
  hasRoom(teamId: string): boolean {
    return (this.#perTeam.get(teamId) ?? 0) < this.maxPerTeam;
  }

  add(teamId: string, end: () => void): () => void {
    this.#open.set(end, teamId);
    this.#perTeam.set(teamId, (this.#perTeam.get(teamId) ?? 0) + 1);
    return () => {
      if (!this.#open.delete(end)) return;
      const n = (this.#perTeam.get(teamId) ?? 1) - 1;
      if (n > 0) this.#perTeam.set(teamId, n);
      else this.#perTeam.delete(teamId);
    };
  }

  closeAll(): void {
    for (const end of [...this.#open.keys()]) end();
  }
}

interface Filter { flags: Set<string>; uris: Set<string> }

function parseFilter(params: JsonObject | undefined): Filter {
  const n = params?.notifications;
  if (n === undefined) return { flags: new Set(), uris: new Set() };
  if (typeof n !== 'object' || n === null || Array.isArray(n)) throw new JsonRpcError(ErrorCode.InvalidParams, 'Invalid params: notifications must be an object');
  const o = n as JsonObject;
  const flags = new Set(Object.values(LIST_CHANGED).filter((k) => o[k] === true));
  const subs = o.resourceSubscriptions;
  if (subs !== undefined && !(Array.isArray(subs) && subs.every((u) => typeof u === 'string'))) {
    throw new JsonRpcError(ErrorCode.InvalidParams, 'Invalid params: resourceSubscriptions must be an array of URIs');
  }
  return { flags, uris: new Set((subs ?? []) as string[]) };
}

function agreed(f: Filter, capabilities: JsonObject): JsonObject {
  const caps = (k: string): JsonObject | undefined => capabilities[k] as JsonObject | undefined;
  const out: JsonObject = {};
  if (f.flags.has('toolsListChanged') && caps('tools')?.listChanged === true) out.toolsListChanged = true;
  if (f.flags.has('promptsListChanged') && caps('prompts')?.listChanged === true) out.promptsListChanged = true;
  if (f.flags.has('resourcesListChanged') && caps('resources')?.listChanged === true) out.resourcesListChanged = true;
  if (f.uris.size > 0 && caps('resources')?.subscribe === true) out.resourceSubscriptions = [...f.uris];
  return out;
}

export async function handleListen(deps: ModernDeps, req: FastifyRequest, reply: FastifyReply, target: SessionTarget, r: JsonRpcRequest, clientCapabilities: JsonObject): Promise<FastifyReply> {
  let filter: Filter;
  try {
    filter = parseFilter(r.params);
  } catch (e) {
    return sendModernError(reply, r.id, e, 400);
  }
  const identity = identityOf(req);
  if (!deps.listens.hasRoom(identity.teamId)) {
    reply.header('retry-after', '5');
    return sendModernError(reply, r.id, new JsonRpcError(ErrorCode.ConnectionClosed, 'Too many subscriptions/listen streams for this team'), 503);
  }
  const subscriptionId = randomUUID();
  let write: (n: JsonRpcNotification) => void = () => undefined;
  let allowed: JsonObject = {};
  const wanted = (n: JsonRpcNotification): boolean => {
    const flag = LIST_CHANGED[n.method];
    if (flag !== undefined) return allowed[flag] === true;
    return n.method === 'notifications/resources/updated' && filter.uris.has(String(n.params?.uri));
  };
  let handler: McpSessionHandler;
  let init: JsonObject;
  try {
    handler = deps.handlers.create(target, identity, {
      sendNotification: (n) => { if (wanted(n)) write(n); },
      sendRequest: async () => { throw new JsonRpcError(ErrorCode.MethodNotFound, 'No server requests on a listen stream'); }
    });
  } catch (e) {
    return sendModernError(reply, r.id, e, 404);
  }
  try {
    init = await handler.initialize({ protocolVersion: LATEST_PROTOCOL_VERSION, capabilities: clientCapabilities });
  } catch (e) {
    handler.close('initialize failed');
    return sendModernError(reply, r.id, e);
  }
  allowed = agreed(filter, (init.capabilities ?? {}) as JsonObject);
  const controller = new AbortController();
  const ctx = { sessionId: '', identity, signal: controller.signal, sendNotification: () => undefined, sendRequest: async () => ({}) };
  for (const uri of (allowed.resourceSubscriptions ?? []) as string[]) {
    await handler.handleRequest({ jsonrpc: '2.0', id: `listen-${uri}`, method: 'resources/subscribe', params: { uri } }, ctx).catch(() => undefined);
  }
  if (!deps.listens.hasRoom(identity.teamId)) { // checked again: others may have opened meanwhile
    handler.close('too many listen streams');
    reply.header('retry-after', '5');
    return sendModernError(reply, r.id, new JsonRpcError(ErrorCode.ConnectionClosed, 'Too many subscriptions/listen streams for this team'), 503);
  }
  writeSseHead(reply);
  const raw = reply.raw;
  const tagged = (n: JsonRpcNotification): JsonRpcNotification => ({ ...n, params: { ...n.params, _meta: { ...(n.params?._meta as JsonObject | undefined), [META.subscriptionId]: subscriptionId } } });
  write = (n) => { if (!raw.destroyed) raw.write(sseFrame(JSON.stringify(tagged(n)))); };
  write({ jsonrpc: '2.0', method: 'notifications/subscriptions/acknowledged', params: { notifications: allowed } });
  const keepAlive = setInterval(() => { if (!raw.destroyed) raw.write(': keep-alive\n\n'); }, deps.listens.keepAliveMs);
  keepAlive.unref();
  let ended = false;
  const end = (): void => {
    if (ended) return;
    ended = true;
    clearInterval(keepAlive);
    controller.abort();
    unregister();
    handler.close('listen stream closed');
    if (!raw.writableEnded) raw.end();
  };
  const unregister = deps.listens.add(identity.teamId, end);
  raw.on('close', end);
  return reply;
}
