// Tool/resource/prompt discovery cache, one entry per (team, server slug, owner): refreshed when a
// server comes online, says its lists changed, or its config changes (a new upstream object).
import type { JsonObject } from '../mcp/jsonrpc';
import { upstreamKey, type GatewayUpstream } from './server-directory';

export interface Catalog {
  tools: JsonObject[];
  resources: JsonObject[];
  resourceTemplates: JsonObject[];
  prompts: JsonObject[];
}

export type CatalogKind = keyof Catalog;

/** List method, result field and the capability a server must declare for it. */
const LISTS: Record<CatalogKind, { method: string; capability: string }> = {
  tools: { method: 'tools/list', capability: 'tools' },
  resources: { method: 'resources/list', capability: 'resources' },
  resourceTemplates: { method: 'resources/templates/list', capability: 'resources' },
  prompts: { method: 'prompts/list', capability: 'prompts' }
};
const KINDS = Object.keys(LISTS) as CatalogKind[];
/** A server paging forever must not hold a list request. */
const MAX_PAGES = 50;

interface Entry {
  upstream: GatewayUpstream;
  catalog?: Catalog;
  pending?: Promise<Catalog>;
  /** Bumped on invalidation: a fetch started before it is not stored. */
  version: number;
}

export class CatalogCache {
  readonly #entries = new Map<string, Entry>();

  #entry(upstream: GatewayUpstream): Entry {
    const key = upstreamKey(upstream);
    let e = this.#entries.get(key);
    // A config change builds a new upstream object: its old catalog no longer holds.
    if (!e || e.upstream !== upstream) this.#entries.set(key, (e = { upstream, version: (e?.version ?? 0) + 1 }));
    return e;
  }

  peek(upstream: GatewayUpstream): Catalog | undefined {
    const e = this.#entries.get(upstreamKey(upstream));
    return e?.upstream === upstream ? e.catalog : undefined;
  }

  /** The cached catalog, fetched (once, however many callers wait) when missing; the server must be ready. */
  get(upstream: GatewayUpstream): Promise<Catalog> {
    const e = this.#entry(upstream);
    if (e.catalog) return Promise.resolve(e.catalog);
    if (!e.pending) {
      const version = e.version;
      const pending = fetchCatalog(upstream).then((catalog) => {
        if (e.version === version && this.#entries.get(upstreamKey(upstream)) === e) e.catalog = catalog;
        return catalog;
      }).finally(() => {
        if (e.pending === pending) e.pending = undefined;
      });
      e.pending = pending;
    }
    return e.pending;
  }

  /**
   * Re-lists a server whose catalog is cached (the periodic refresh: servers that change their
   * lists without saying so). Undefined when nothing was cached or the entry moved on meanwhile.
   */
  async refresh(upstream: GatewayUpstream): Promise<{ before: Catalog; after: Catalog } | undefined> {
    const e = this.#entries.get(upstreamKey(upstream));
    const before = e?.upstream === upstream ? e.catalog : undefined;
    if (!e || !before || e.pending) return undefined;
    const version = e.version;
    const after = await fetchCatalog(upstream, true);
    if (e.version !== version || this.#entries.get(upstreamKey(upstream)) !== e || e.catalog !== before) return undefined;
    e.catalog = after;
    return { before, after };
  }

  invalidate(upstream: GatewayUpstream): void {
    const e = this.#entries.get(upstreamKey(upstream));
    if (!e || e.upstream !== upstream) return;
    e.version++;
    e.catalog = undefined;
    e.pending = undefined;
  }

  /** Tools per server of a team, for status pages. */
  toolCounts(teamId: string): Array<{ serverSlug: string; userId?: string; tools: number }> {
    const out: Array<{ serverSlug: string; userId?: string; tools: number }> = [];
    for (const { upstream, catalog } of this.#entries.values()) {
      if (upstream.teamId !== teamId || !catalog) continue;
      const userId = upstream.config.user_id;
      out.push({ serverSlug: upstream.serverSlug, ...(userId !== undefined ? { userId } : {}), tools: catalog.tools.length });
    }
    return out;
  }
}

/** `background`: the periodic refresh, which must not count as use (it would keep idle servers awake). */
async function fetchCatalog(upstream: GatewayUpstream, background = false): Promise<Catalog> {
  await upstream.ensureReady();
  const caps = (upstream.initializeResult?.capabilities ?? {}) as JsonObject;
  const lists = await Promise.all(KINDS.map((kind) => caps[LISTS[kind].capability] === undefined ? [] : fetchAll(upstream, kind, background)));
  return Object.fromEntries(KINDS.map((k, i) => [k, lists[i]])) as unknown as Catalog;
}

async function fetchAll(upstream: GatewayUpstream, kind: CatalogKind, background: boolean): Promise<JsonObject[]> {
  const items: JsonObject[] = [];
  let cursor: unknown;
  for (let page = 0; page < MAX_PAGES; page++) {
    let result: JsonObject;
    try {
      result = await upstream.request(LISTS[kind].method, cursor === undefined ? {} : { cursor }, background ? { background } : undefined);
    } catch (err) {
      // A server declaring resources but not templates answers -32601 there: an empty list, not a failure.
      if (page === 0 && (err as { code?: number }).code === -32601) return [];
      throw err;
    }
    const batch = result[kind];
    if (Array.isArray(batch)) items.push(...(batch.filter((x) => typeof x === 'object' && x !== null) as JsonObject[]));
    cursor = result.nextCursor;
    if (typeof cursor !== 'string' || cursor === '') break;
  }
  return items;
}
