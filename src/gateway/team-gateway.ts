// The team endpoint's shared state: discovery cache, disabled tools, the sessions of every team
// and one listener per server (list_changed fan-out, subscriptions, logging, server→client requests).
import type { BaseLogger } from 'pino';
import { ErrorCode, JsonRpcError, type JsonObject, type JsonRpcNotification } from '../mcp/jsonrpc';
import type { ClientIdentity, McpSessionHandler, SessionHandlerFactory, SessionOutbound, SessionTarget } from '../mcp/session-contract';
import type { ServerStatus } from '../servers/upstream';
import { CatalogCache, type Catalog } from './catalog-cache';
import { buildIndex, type CatalogIndex } from './catalog-index';
import { ANY_TEAM, DisabledTools } from './disabled-tools';
import { upstreamKey, visibleTo, type GatewayUpstream, type ServerDirectory } from './server-directory';
import { TeamSessionHandler } from './team-handler';

export type Log = Pick<BaseLogger, 'debug' | 'info' | 'warn' | 'error'>;

export interface TeamGatewayOptions {
  servers: ServerDirectory;
  log: Log;
  /** `teams.<id>.meta_tools` of the config: meta-tools instead of the full catalog. */
  metaTools?(teamId: string): boolean;
  /** How long a list waits for a server that is still starting (ms). */
  listWaitMs?: number;
  pageSize?: number;
}

const LIST_CHANGED = ['notifications/tools/list_changed', 'notifications/resources/list_changed', 'notifications/prompts/list_changed'];
const DOWN: ServerStatus[] = ['error', 'permanently_failed', 'stopped'];
const ERROR_RETRY_WAIT_MS = 2000;

export class TeamGateway implements SessionHandlerFactory {
  readonly cache = new CatalogCache();
  readonly disabled = new DisabledTools();
  readonly #sessions = new Set<TeamSessionHandler>();
  readonly #watched = new Map<GatewayUpstream, () => void>();
  /** upstream → uri → subscribed sessions (upstream subscription while non-empty). */
  readonly #subscriptions = new Map<GatewayUpstream, Map<string, Set<TeamSessionHandler>>>();
  /** What was last logged per server (and per duplicate URI), so it is logged once, not on every list. */
  readonly #reported = new Map<string, string>();

  constructor(readonly opts: TeamGatewayOptions) {}

  get pageSize(): number | undefined {
    return this.opts.pageSize;
  }

  exists(target: SessionTarget, identity: ClientIdentity): boolean {
    return target.kind === 'team' && target.teamId === identity.teamId;
  }

  create(target: SessionTarget, identity: ClientIdentity, outbound: SessionOutbound): McpSessionHandler {
    if (!this.exists(target, identity)) throw new JsonRpcError(ErrorCode.InvalidParams, 'Unknown team');
    const meta = (target.kind === 'team' ? target.metaTools : undefined) ?? this.opts.metaTools?.(identity.teamId) ?? false;
    const handler = new TeamSessionHandler(this, identity, outbound, meta);
    this.#sessions.add(handler);
    return handler;
  }

  /** The caller's servers, in slug order (the order every merge and tie-break uses). */
  servers(identity: ClientIdentity): GatewayUpstream[] {
    const list = this.opts.servers.forTeam(identity.teamId, identity.userId)
      .filter((u) => visibleTo(u, identity.teamId, identity.userId))
      .sort((a, b) => a.serverSlug.localeCompare(b.serverSlug));
    for (const u of list) this.#watch(u);
    return list;
  }

  /** Every usable server's catalog merged for this caller; servers that are down are left out (logged). */
  async view(identity: ClientIdentity): Promise<CatalogIndex> {
    const servers = this.servers(identity);
    const catalogs = await Promise.all(servers.map((u) => this.#catalogForList(u)));
    const entries: Array<{ upstream: GatewayUpstream; catalog: Catalog }> = [];
    servers.forEach((upstream, i) => {
      const catalog = catalogs[i];
      if (catalog) entries.push({ upstream, catalog });
    });
    return buildIndex(entries, this.disabled, (uri, kept, dropped) => {
      const key = JSON.stringify([identity.teamId, uri, kept, dropped]);
      if (this.#reported.has(key)) return;
      this.#reported.set(key, 'duplicate');
      this.opts.log.warn({ team_id: identity.teamId, uri, kept, dropped }, `resource URI offered by two servers: '${kept}' serves it, '${dropped}' is ignored`);
    });
  }

  async #catalogForList(u: GatewayUpstream): Promise<Catalog | undefined> {
    const cached = this.cache.peek(u);
    // Dormant servers keep their catalog: listing must not wake them.
    if (cached && (u.status === 'online' || u.status === 'dormant')) return cached;
    if (u.status === 'permanently_failed') return this.#leftOut(u, 'permanently failed');
    // A failed server gets a short retry only: a blackholed host must not hold every list (it
    // reports back through list_changed when it recovers).
    const waitMs = Math.min(this.opts.listWaitMs ?? 15_000, u.status === 'error' ? ERROR_RETRY_WAIT_MS : Infinity);
    let timer: NodeJS.Timeout | undefined;
    const wait = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`not ready within ${waitMs} ms`)), waitMs);
    });
    try {
      // ensureReady first: a cached catalog of a server that went down must not be listed.
      const catalog = await Promise.race([u.ensureReady().then(() => this.cache.get(u)), wait]);
      this.#reported.delete(upstreamKey(u));
      return catalog;
    } catch (err) {
      return this.#leftOut(u, (err as Error).message);
    } finally {
      clearTimeout(timer);
    }
  }

  #leftOut(u: GatewayUpstream, why: string): undefined {
    const key = upstreamKey(u);
    if (this.#reported.get(key) !== why) {
      this.#reported.set(key, why);
      this.opts.log.warn({ team_id: u.teamId, server_slug: u.serverSlug, status: u.status, reason: why }, `server '${u.serverSlug}' left out of the team's lists`);
    }
    return undefined;
  }

  /** The backend's update_tool_status: hides/refuses a tool for a team (by installation id or slug). */
  setToolDisabled(teamId: string, installationOrSlug: string, toolName: string, disabled: boolean): boolean {
    const changed = this.disabled.set(teamId, installationOrSlug, toolName, disabled);
    if (changed) this.#broadcast((h) => h.identity.teamId === teamId, 'notifications/tools/list_changed');
    return changed;
  }

  /** The backend's update_tool_status names only the installation (its id is unique across teams). */
  setToolDisabledByInstallation(installationId: string, toolName: string, disabled: boolean): boolean {
    const changed = this.disabled.set(ANY_TEAM, installationId, toolName, disabled);
    if (changed) {
      const teams = new Set([...this.#watched.keys()].filter((u) => u.config.installation_id === installationId).map((u) => u.teamId));
      this.#broadcast((h) => teams.has(h.identity.teamId), 'notifications/tools/list_changed');
    }
    return changed;
  }

  /** Tools per server of a team (for status). */
  toolCounts(teamId: string): Array<{ serverSlug: string; userId?: string; tools: number }> {
    return this.cache.toolCounts(teamId);
  }

  /** After a config change has been applied: the teams whose servers changed get list_changed. */
  configChanged(teamIds: Iterable<string>): void {
    const teams = new Set(teamIds);
    for (const method of LIST_CHANGED) this.#broadcast((h) => teams.has(h.identity.teamId), method);
  }

  /**
   * The tool-cache refresh job: re-lists every online server with a cached catalog, one at a time,
   * and tells the sessions that see it about the lists that changed. Returns how many changed.
   */
  async refreshCatalogs(signal?: AbortSignal): Promise<number> {
    let changed = 0;
    for (const u of [...this.#watched.keys()]) {
      if (signal?.aborted) break;
      if (u.status !== 'online') continue;
      try {
        const r = await this.cache.refresh(u);
        if (r && this.#announce(u, r.before, r.after) > 0) {
          changed++;
          this.opts.log.info({ team_id: u.teamId, server_slug: u.serverSlug }, 'server lists changed without list_changed; clients told');
        }
      } catch (err) {
        // A server failing now is the health probe's and the next call's business; its cached lists stay.
        this.opts.log.debug({ team_id: u.teamId, server_slug: u.serverSlug, err: (err as Error).message }, 'catalog refresh failed');
      }
    }
    return changed;
  }

  /** The most verbose log level any session that sees this server asked for. */
  mostVerboseLevel(u: GatewayUpstream): number | undefined {
    let min: number | undefined;
    for (const h of this.#sessions) {
      const level = h.logLevel;
      if (level !== undefined && h.sees(u) && (min === undefined || level < min)) min = level;
    }
    return min;
  }

  // The upstream ref-counts the server's subscription across every route (src/servers/subscription-set.ts);
  // this map only says which of our sessions get the updates.
  async subscribe(h: TeamSessionHandler, u: GatewayUpstream, uri: string, signal?: AbortSignal): Promise<JsonObject> {
    const result = await u.request('resources/subscribe', { uri }, { signal, subscriber: h });
    let byUri = this.#subscriptions.get(u);
    if (!byUri) this.#subscriptions.set(u, (byUri = new Map()));
    byUri.set(uri, (byUri.get(uri) ?? new Set()).add(h));
    return result;
  }

  async unsubscribe(h: TeamSessionHandler, u: GatewayUpstream, uri: string, signal?: AbortSignal): Promise<JsonObject> {
    const byUri = this.#subscriptions.get(u);
    const subs = byUri?.get(uri);
    if (!subs?.delete(h)) return {};
    if (subs.size === 0) byUri!.delete(uri);
    return u.request('resources/unsubscribe', { uri }, { signal, subscriber: h });
  }

  remove(h: TeamSessionHandler): void {
    this.#sessions.delete(h);
    for (const [u, byUri] of this.#subscriptions) {
      for (const [uri, subs] of byUri) if (subs.has(h)) void this.unsubscribe(h, u, uri).catch(() => undefined);
    }
  }

  close(): void {
    for (const off of this.#watched.values()) off();
    this.#watched.clear();
  }

  #watch(u: GatewayUpstream): void {
    if (this.#watched.has(u)) return;
    this.#watched.set(u, u.addListener({
      onStatus: (s) => this.#onStatus(u, s),
      onNotification: (n) => this.#onNotification(u, n),
      onRequest: (method, params) => this.#onRequest(u, method, params)
    }));
  }

  #onStatus(u: GatewayUpstream, status: ServerStatus): void {
    if (status === 'online') {
      // Spawned, restarted or reconnected: re-discover; a wake from dormancy changes nothing and says nothing.
      const before = this.cache.peek(u);
      this.cache.invalidate(u);
      this.cache.get(u).then((after) => this.#announce(u, before, after),
        (err: Error) => this.opts.log.debug({ server_slug: u.serverSlug, err: err.message }, 'discovery after online failed'));
    } else if (DOWN.includes(status)) {
      // Its items leave the lists until it is back (and coming back is then news, whatever it offers).
      if (this.cache.peek(u)) for (const method of LIST_CHANGED) this.#broadcast((h) => h.sees(u), method);
      this.cache.invalidate(u);
      if (status === 'stopped') {
        this.#watched.get(u)?.();
        this.#watched.delete(u);
      }
    }
  }

  #onNotification(u: GatewayUpstream, n: JsonRpcNotification): void {
    if (LIST_CHANGED.includes(n.method)) {
      this.cache.invalidate(u);
      this.#broadcast((h) => h.sees(u), n.method);
    } else if (n.method === 'notifications/resources/updated') {
      for (const h of this.#subscriptions.get(u)?.get(String(n.params?.uri)) ?? []) h.outbound.sendNotification(n);
    } else if (n.method === 'notifications/message') {
      for (const h of this.#sessions) if (h.sees(u) && h.wantsLog(n.params?.level)) h.outbound.sendNotification(n);
    }
  }

  /** A server→client request outside any call: the first of the owner's sessions able to answer it. */
  async #onRequest(u: GatewayUpstream, method: string, params: JsonObject | undefined): Promise<JsonObject> {
    if (method === 'ping') return {};
    for (const h of this.#sessions) if (h.sees(u) && h.clientSupports(method)) return h.outbound.sendRequest(method, params);
    throw new JsonRpcError(ErrorCode.MethodNotFound, `No connected client supports ${method}`);
  }

  /** list_changed for each list that differs between two catalogs of a server (every list when there was none). */
  #announce(u: GatewayUpstream, before: Catalog | undefined, after: Catalog): number {
    let sent = 0;
    for (const [kind, method] of [['tools', LIST_CHANGED[0]], ['resources', LIST_CHANGED[1]], ['prompts', LIST_CHANGED[2]]] as const) {
      const same = before && JSON.stringify(before[kind]) === JSON.stringify(after[kind])
        && (kind !== 'resources' || JSON.stringify(before.resourceTemplates) === JSON.stringify(after.resourceTemplates));
      if (same) continue;
      sent++;
      this.#broadcast((h) => h.sees(u), method!);
    }
    return sent;
  }

  #broadcast(to: (h: TeamSessionHandler) => boolean, method: string): void {
    for (const h of this.#sessions) if (to(h)) h.outbound.sendNotification({ jsonrpc: '2.0', method });
  }
}
