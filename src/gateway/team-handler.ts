// One client session on the team endpoint (/mcp, /sse): aggregated, namespaced lists and calls
// routed to the owning server under its original name.
import { ErrorCode, JsonRpcError, type JsonObject, type JsonRpcNotification, type JsonRpcRequest } from '../mcp/jsonrpc';
import type { ClientIdentity, ClientInfo, McpSessionHandler, RequestContext, SessionOutbound } from '../mcp/session-contract';
import type { UpstreamCallOptions } from '../servers/upstream';
import { VERSION } from '../version';
import { resourceOwner, type CatalogIndex } from './catalog-index';
import { paginate } from './cursor';
import { DISCOVER, discover, EXECUTE, META_TOOLS, normalizeToolPath } from './meta-tools';
import { splitName } from './naming';
import { visibleTo, type GatewayUpstream } from './server-directory';
import type { TeamGateway } from './team-gateway';
import { errorResult, permanentFailure, unavailableText } from './unavailable';

const LOG_LEVELS = ['debug', 'info', 'notice', 'warning', 'error', 'critical', 'alert', 'emergency'];
const CLIENT_CAPABILITY: Record<string, string> = { 'sampling/createMessage': 'sampling', 'elicitation/create': 'elicitation', 'roots/list': 'roots' };

export const TEAM_CAPABILITIES = {
  tools: { listChanged: true },
  resources: { subscribe: true, listChanged: true },
  prompts: { listChanged: true },
  completions: {},
  logging: {}
};

/** Errors of the link to a server (not answers of the server): a tool result says so in words. */
function isLinkFailure(err: unknown): boolean {
  const code = (err as { code?: unknown }).code;
  return code === ErrorCode.ConnectionClosed || code === ErrorCode.RequestTimeout || !(err instanceof JsonRpcError);
}

export class TeamSessionHandler implements McpSessionHandler {
  #capabilities: JsonObject = {};
  #logLevel: number | undefined;
  /** This session's own processes of servers with session_affinity "per_session", spawned on first use. */
  readonly #own = new Map<GatewayUpstream, GatewayUpstream>();

  constructor(private readonly gw: TeamGateway, readonly identity: ClientIdentity, readonly outbound: SessionOutbound, readonly metaTools: boolean) {}

  sees(u: GatewayUpstream): boolean {
    return visibleTo(u, this.identity.teamId, this.identity.userId);
  }

  wantsLog(level: unknown): boolean {
    return this.#logLevel !== undefined && LOG_LEVELS.indexOf(String(level)) >= this.#logLevel;
  }

  /** The level this session asked for (index into LOG_LEVELS), if any. */
  get logLevel(): number | undefined {
    return this.#logLevel;
  }

  clientSupports(method: string): boolean {
    const cap = CLIENT_CAPABILITY[method];
    return cap === undefined || this.#capabilities[cap] !== undefined;
  }

  async initialize(client: ClientInfo): Promise<JsonObject> {
    this.#capabilities = client.capabilities;
    return {
      capabilities: TEAM_CAPABILITIES,
      serverInfo: { name: 'satellite', title: 'Satellite MCP gateway', version: VERSION },
      instructions: this.metaTools
        ? 'Tools of every MCP server of your team are reached through discover_mcp_tools (search) and execute_mcp_tool (run).'
        : 'Tools, prompts and resources of every MCP server of your team; tool and prompt names are <server>__<name>.'
    };
  }

  async handleRequest(req: JsonRpcRequest, ctx: RequestContext): Promise<JsonObject> {
    const p = req.params ?? {};
    switch (req.method) {
      case 'ping':
        return {};
      case 'tools/list':
        return this.metaTools ? { tools: META_TOOLS } : this.#page('tools', p.cursor, (await this.#view()).tools.map((t) => ({ ...t.item, name: t.name })));
      case 'tools/call':
        return this.#callTool(p, ctx);
      case 'resources/list':
        return this.#page('resources', p.cursor, (await this.#view()).resources.map((r) => r.item));
      case 'resources/templates/list':
        return this.#page('resourceTemplates', p.cursor, (await this.#view()).templates.map((t) => t.item));
      case 'prompts/list':
        return this.#page('prompts', p.cursor, (await this.#view()).prompts.map((t) => ({ ...t.item, name: t.name })));
      case 'prompts/get':
        return this.#routeNamed(req.method, p, ctx);
      case 'resources/read':
        return this.#target(await this.#resourceServer(p.uri)).request(req.method, p, this.#callOptions(ctx));
      case 'resources/subscribe':
        return this.gw.subscribe(this, await this.#resourceServer(p.uri), String(p.uri), ctx.signal);
      case 'resources/unsubscribe':
        return this.gw.unsubscribe(this, await this.#resourceServer(p.uri), String(p.uri), ctx.signal);
      case 'completion/complete':
        return this.#complete(p, ctx);
      case 'logging/setLevel':
        return this.#setLevel(p, ctx);
      default:
        throw new JsonRpcError(ErrorCode.MethodNotFound, `Method not found: ${req.method}`);
    }
  }

  handleNotification(n: JsonRpcNotification): void {
    if (n.method !== 'notifications/roots/list_changed') return;
    for (const u of this.gw.servers(this.identity)) if (u.status === 'online') u.notify(n.method, n.params);
  }

  close(): void {
    this.gw.remove(this);
    for (const own of this.#own.values()) void this.gw.opts.servers.releaseSession?.(own).catch(() => undefined);
    this.#own.clear();
  }

  /** Where this session's calls to `u` go: its own process for per-session servers (discovery stays on the shared one). */
  #target(u: GatewayUpstream): GatewayUpstream {
    if (u.config.session_affinity !== 'per_session') return u;
    const had = this.#own.get(u);
    if (had !== undefined) return had;
    const own = this.gw.opts.servers.forSession?.(u);
    if (own === undefined) return u;
    this.#own.set(u, own);
    return own;
  }

  #view(): Promise<CatalogIndex> {
    return this.gw.view(this.identity);
  }

  #page(kind: string, cursor: unknown, items: JsonObject[]): JsonObject {
    const { page, nextCursor } = paginate(items, kind, cursor, this.gw.pageSize);
    return nextCursor === undefined ? { [kind]: page } : { [kind]: page, nextCursor };
  }

  #callOptions(ctx: RequestContext): UpstreamCallOptions {
    return {
      signal: ctx.signal,
      onNotification: (n) => {
        // A shared server logs at the most verbose level any session asked for: filter to ours.
        if (n.method === 'notifications/message' && this.#logLevel !== undefined && !this.wantsLog(n.params?.level)) return;
        ctx.sendNotification(n);
      },
      onRequest: (method, params) => {
        if (method === 'ping') return Promise.resolve({});
        if (!this.clientSupports(method)) return Promise.reject(new JsonRpcError(ErrorCode.MethodNotFound, `The client does not support ${method}`));
        return ctx.sendRequest(method, params, ctx.signal);
      }
    };
  }

  async #callTool(p: JsonObject, ctx: RequestContext): Promise<JsonObject> {
    if (typeof p.name !== 'string') throw new JsonRpcError(ErrorCode.InvalidParams, 'Invalid params: tools/call needs a tool name');
    const args = (p.arguments ?? {}) as JsonObject;
    if (this.metaTools && p.name === DISCOVER) return discover(await this.#view(), args);
    if (this.metaTools && p.name === EXECUTE) {
      if (typeof args.tool_path !== 'string') return errorResult('execute_mcp_tool needs a tool_path (from discover_mcp_tools).');
      return this.#routeTool(normalizeToolPath(args.tool_path), (args.arguments ?? {}) as JsonObject, p._meta, ctx, true);
    }
    return this.#routeTool(p.name, args, p._meta, ctx, false);
  }

  /** `soft`: an unknown tool is a tool result (meta-tool mode), not a protocol error. */
  async #routeTool(name: string, args: JsonObject, meta: unknown, ctx: RequestContext, soft: boolean): Promise<JsonObject> {
    const unknown = (): JsonObject => {
      if (soft) return errorResult(`Unknown tool '${name}'. Call discover_mcp_tools to find the tools you can use.`);
      throw new JsonRpcError(ErrorCode.InvalidParams, `Unknown tool: ${name}`);
    };
    const { upstream, name: original } = this.#owner(name);
    if (!upstream || original === undefined) return unknown();
    const split = { name: original };
    if (this.gw.disabled.isDisabled(upstream.config, split.name)) return errorResult(`Tool '${name}' is disabled for this team by an administrator.`);
    const failed = permanentFailure(upstream);
    if (failed) return errorResult(failed);
    try {
      const catalog = await this.gw.cache.get(upstream);
      if (!catalog.tools.some((t) => t.name === split.name)) return unknown();
      const params: JsonObject = { name: split.name, arguments: args };
      if (meta !== undefined) params._meta = meta;
      return await this.#target(upstream).request('tools/call', params, this.#callOptions(ctx));
    } catch (err) {
      if (isLinkFailure(err)) return errorResult(unavailableText(upstream, err));
      throw err;
    }
  }

  async #routeNamed(method: string, p: JsonObject, ctx: RequestContext): Promise<JsonObject> {
    const { upstream, name } = this.#prompt(p.name);
    return this.#target(upstream).request(method, { ...p, name }, this.#callOptions(ctx));
  }

  /** The visible server a namespaced name belongs to, and the name the server knows. */
  #owner(namespacedName: unknown): { upstream?: GatewayUpstream; name?: string } {
    if (typeof namespacedName !== 'string') return {};
    const servers = this.gw.servers(this.identity);
    const split = splitName(namespacedName, servers.map((u) => u.serverSlug));
    return split ? { upstream: servers.find((u) => u.serverSlug === split.slug), name: split.name } : {};
  }

  #prompt(namespacedName: unknown): { upstream: GatewayUpstream; name: string } {
    const { upstream, name } = this.#owner(namespacedName);
    if (!upstream || name === undefined) throw new JsonRpcError(ErrorCode.InvalidParams, `Invalid params: unknown prompt ${String(namespacedName)}`);
    return { upstream, name };
  }

  async #resourceServer(uri: unknown): Promise<GatewayUpstream> {
    if (typeof uri !== 'string') throw new JsonRpcError(ErrorCode.InvalidParams, 'Invalid params: a resource uri is required');
    const owner = resourceOwner(await this.#view(), uri);
    if (!owner) throw new JsonRpcError(ErrorCode.ResourceNotFound, `Resource not found: ${uri}`, { uri });
    return owner;
  }

  async #complete(p: JsonObject, ctx: RequestContext): Promise<JsonObject> {
    const ref = (p.ref ?? {}) as JsonObject;
    if (ref.type === 'ref/prompt') {
      const { upstream, name } = this.#prompt(ref.name);
      return this.#target(upstream).request('completion/complete', { ...p, ref: { ...ref, name } }, this.#callOptions(ctx));
    }
    if (ref.type === 'ref/resource') return this.#target(await this.#resourceServer(ref.uri)).request('completion/complete', p, this.#callOptions(ctx));
    throw new JsonRpcError(ErrorCode.InvalidParams, 'Invalid params: ref must be ref/prompt or ref/resource');
  }

  async #setLevel(p: JsonObject, ctx: RequestContext): Promise<JsonObject> {
    const level = LOG_LEVELS.indexOf(String(p.level));
    if (level < 0) throw new JsonRpcError(ErrorCode.InvalidParams, `Invalid params: unknown log level ${String(p.level)}`);
    this.#logLevel = level;
    // Best effort: each server logs at the most verbose level its sessions want; the gateway filters per session.
    await Promise.all(this.gw.servers(this.identity)
      .filter((u) => u.status === 'online' && (u.initializeResult?.capabilities as JsonObject | undefined)?.logging !== undefined)
      .map((u) => u.request('logging/setLevel', { level: LOG_LEVELS[this.gw.mostVerboseLevel(u) ?? level] }, { signal: ctx.signal }).catch(() => undefined)));
    return {};
  }
}
