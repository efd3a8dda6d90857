// The per-server pass-through session handler (target {kind:'server'}): one backend exposed
// unrenamed. Payloads are forwarded verbatim; what a shared backend cannot do per session
// (subscriptions, unrelated notifications, server→client requests) is routed here.
import { ErrorCode, JsonRpcError, type JsonObject, type JsonRpcNotification, type JsonRpcRequest } from '../mcp/jsonrpc';
import type { ClientIdentity, ClientInfo, McpSessionHandler, RequestContext, SessionHandlerFactory, SessionOutbound, SessionTarget } from '../mcp/session-contract';
import type { Upstream } from '../servers/upstream';
import { ClientPreferences } from './passthrough-client';

/** What the pass-through needs of the server registry (app.servers). */
export interface UpstreamSource {
  get(teamId: string, serverSlug: string, userId?: string): Upstream | undefined;
  /** A process for one session when the server wants one (session_affinity "per_session"), else undefined. */
  forSession?(shared: Upstream): Upstream | undefined;
  releaseSession?(own: Upstream): Promise<void>;
}

/** Everything shared by the sessions of one upstream: its listener and ref-counted subscriptions. */
class UpstreamHub {
  readonly sessions = new Set<PassthroughHandler>();
  readonly #subscriptions = new Map<string, Set<PassthroughHandler>>();
  readonly #removeListener: () => void;

  constructor(readonly upstream: Upstream, private readonly onEmpty: () => void) {
    this.#removeListener = upstream.addListener({
      onNotification: (n) => this.#fanOut(n),
      onRequest: (method, params) => this.#serverRequest(method, params)
    });
  }

  #fanOut(n: JsonRpcNotification): void {
    if (n.method === 'notifications/resources/updated') {
      const subscribers = this.#subscriptions.get(String(n.params?.uri));
      for (const h of subscribers ?? []) h.outbound.sendNotification(n);
    } else if (n.method === 'notifications/message') {
      for (const h of this.sessions) if (h.client.wantsLog(n.params?.level)) h.outbound.sendNotification(n);
    } else {
      for (const h of this.sessions) h.outbound.sendNotification(n);
    }
  }

  /** A server→client request outside any call: the first session able to answer it does. */
  async #serverRequest(method: string, params: JsonObject | undefined): Promise<JsonObject> {
    if (method === 'ping') return {};
    for (const h of this.sessions) {
      if (h.client.supports(method)) return h.outbound.sendRequest(method, params);
    }
    throw new JsonRpcError(ErrorCode.MethodNotFound, `No connected client supports ${method}`);
  }

  // The upstream ref-counts the server's subscription across every route (src/servers/subscription-set.ts);
  // this map only says which of our sessions get the updates.
  async subscribe(h: PassthroughHandler, uri: string, ctx: RequestContext): Promise<JsonObject> {
    const result = await this.upstream.request('resources/subscribe', { uri }, { signal: ctx.signal, subscriber: h });
    const subs = this.#subscriptions.get(uri) ?? new Set<PassthroughHandler>();
    subs.add(h);
    this.#subscriptions.set(uri, subs);
    return result;
  }

  async unsubscribe(h: PassthroughHandler, uri: string, ctx?: RequestContext): Promise<JsonObject> {
    const subs = this.#subscriptions.get(uri);
    if (subs === undefined || !subs.delete(h)) return {};
    if (subs.size === 0) this.#subscriptions.delete(uri);
    return this.upstream.request('resources/unsubscribe', { uri }, { signal: ctx?.signal, subscriber: h });
  }

  remove(h: PassthroughHandler): void {
    if (!this.sessions.delete(h)) return;
    for (const [uri, subs] of this.#subscriptions) {
      if (subs.has(h)) void this.unsubscribe(h, uri).catch(() => undefined);
    }
    if (this.sessions.size === 0) {
      this.#removeListener();
      this.onEmpty();
    }
  }
}

class PassthroughHandler implements McpSessionHandler {
  readonly client = new ClientPreferences();

  constructor(private readonly hub: UpstreamHub, readonly outbound: SessionOutbound) {
    hub.sessions.add(this);
  }

  async initialize(client: ClientInfo): Promise<JsonObject> {
    this.client.capabilities = client.capabilities;
    const upstream = this.hub.upstream;
    await upstream.ensureReady();
    const result = upstream.initializeResult;
    if (result === undefined) throw new JsonRpcError(ErrorCode.InternalError, `Server ${upstream.serverSlug} is not initialized`);
    // The backend's own capabilities, serverInfo and instructions; the transport sets the version.
    const { protocolVersion: _ignored, ...rest } = result;
    return rest;
  }

  async handleRequest(req: JsonRpcRequest, ctx: RequestContext): Promise<JsonObject> {
    const uri = req.params?.uri;
    if (req.method === 'resources/subscribe' && typeof uri === 'string') return this.hub.subscribe(this, uri, ctx);
    if (req.method === 'resources/unsubscribe' && typeof uri === 'string') return this.hub.unsubscribe(this, uri, ctx);
    if (req.method === 'logging/setLevel') {
      const rank = ClientPreferences.levelRank(req.params?.level);
      const result = await this.hub.upstream.request(req.method, req.params, { signal: ctx.signal });
      this.client.setLogLevel(rank);
      return result;
    }
    return this.hub.upstream.request(req.method, req.params, {
      signal: ctx.signal,
      onNotification: (n) => ctx.sendNotification(n),
      onRequest: (method, params) => this.#clientRequest(method, params, ctx)
    });
  }

  #clientRequest(method: string, params: JsonObject | undefined, ctx: RequestContext): Promise<JsonObject> {
    if (method === 'ping') return Promise.resolve({});
    if (!this.client.supports(method)) return Promise.reject(new JsonRpcError(ErrorCode.MethodNotFound, `The client does not support ${method}`));
    return ctx.sendRequest(method, params);
  }

  handleNotification(n: JsonRpcNotification): void {
    // Client notifications the backend must see; initialized/cancelled belong to this leg only.
    if (n.method === 'notifications/roots/list_changed') this.hub.upstream.notify(n.method, n.params);
  }

  close(): void {
    this.hub.remove(this);
  }
}

/** Creates pass-through handlers; one hub per upstream, dropped when its last session ends. */
export class PassthroughFactory implements SessionHandlerFactory {
  readonly #hubs = new Map<Upstream, UpstreamHub>();

  constructor(private readonly servers: () => UpstreamSource | undefined) {}

  #upstream(target: SessionTarget, identity: ClientIdentity): Upstream | undefined {
    if (target.kind !== 'server' || target.teamId !== identity.teamId) return undefined;
    const servers = this.servers();
    // The user's own instance of the server first, else the team's shared one.
    return (identity.userId === undefined ? undefined : servers?.get(target.teamId, target.serverSlug, identity.userId))
      ?? servers?.get(target.teamId, target.serverSlug);
  }

  exists(target: SessionTarget, identity: ClientIdentity): boolean {
    return this.#upstream(target, identity) !== undefined;
  }

  create(target: SessionTarget, identity: ClientIdentity, outbound: SessionOutbound): McpSessionHandler {
    const upstream = this.#upstream(target, identity);
    if (upstream === undefined) throw new JsonRpcError(ErrorCode.InvalidParams, `Unknown MCP server: ${target.kind === 'server' ? target.serverSlug : target.kind}`);
    // A server with a process per session: a hub of its own, and the process ends with the session.
    const servers = this.servers();
    const own = servers?.forSession?.(upstream);
    if (own !== undefined) {
      const hub = new UpstreamHub(own, () => void servers?.releaseSession?.(own).catch(() => undefined));
      return new PassthroughHandler(hub, outbound);
    }
    let hub = this.#hubs.get(upstream);
    if (hub === undefined) {
      const created = new UpstreamHub(upstream, () => this.#hubs.delete(upstream));
      this.#hubs.set(upstream, created);
      hub = created;
    }
    return new PassthroughHandler(hub, outbound);
  }
}
