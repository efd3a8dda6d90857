// Every hosted server of every team, kept in step with the ConfigStore: added entries spawn,
// changed ones restart, removed ones stop, unchanged ones are left alone.
import type { Logger } from 'pino';
import type { ConfigStore } from '../config/config-store';
import type { McpServerConfig } from '../config/server-config';
import type { StandaloneConfig } from '../config/standalone';
import type { SandboxDriver } from '../sandbox/types';
import { AwaitingConfigUpstream, awaitsUserConfig } from './awaiting-config';
import { ServerEventEmitter } from './events';
import type { ManagedUpstream, ServerSnapshot, UpstreamFactory } from './managed';
import type { UpstreamTokenCache } from './remote/oauth-tokens';
import { serverKey, stableStringify } from './server-key';
import type { StdioRuntimeOptions } from './stdio/options';
import { StdioUpstream } from './stdio/stdio-upstream';

export interface ServerRegistryOptions {
  configStore: ConfigStore;
  driver: SandboxDriver;
  log: Logger;
  stdio: StdioRuntimeOptions;
  /** Builds http/sse upstreams (src/servers/remote/); without it such entries are skipped with a warning. */
  remoteFactory?: UpstreamFactory;
  /** Start enabled servers right away (default) so their tools are discoverable, or on first use. */
  eager?: boolean;
  /** Runs checkDormancy() this often (ms); off by default, the job system calls it instead. */
  dormancyIntervalMs?: number;
  /** Wraps every built upstream (team call budgets, src/budgets/). */
  wrap?: (upstream: ManagedUpstream) => ManagedUpstream;
  /** Upstream OAuth tokens per user for remote `requires_oauth` entries. */
  upstreamTokens?: UpstreamTokenCache;
}

/** A server the health probe job can check (src/servers/remote/remote-upstream.ts). */
interface Probeable {
  probe(timeoutMs: number): Promise<'ok' | 'failed' | 'skipped'>;
}
/** Probes in flight at once: many remote servers must not mean a burst of connections. */
const PROBE_CONCURRENCY = 8;

interface Entry {
  upstream: ManagedUpstream;
  /** stableStringify of the config entry: a change restarts the server. */
  fingerprint: string;
}

export class ServerRegistry {
  readonly events = new ServerEventEmitter();
  #entries = new Map<string, Entry>();
  /** Processes of single client sessions (session_affinity "per_session"), outside the config diff. */
  readonly #sessionInstances = new Set<ManagedUpstream>();
  #closed = false;
  #timer: NodeJS.Timeout | undefined;
  /** Config diffs are applied one at a time, in order. */
  #applying: Promise<void> = Promise.resolve();
  /** Eager starts of the last applied config (not awaited by the diff queue: a slow server must not hold up the next change). */
  #starting: Promise<unknown> = Promise.resolve();
  readonly #onChange = (next: StandaloneConfig): void => {
    void this.#enqueue(next);
  };

  constructor(private readonly opts: ServerRegistryOptions) {
    // Per-server EventEmitters listen here too (event system, metrics, status): avoid the default cap warning.
    this.events.setMaxListeners(100);
  }

  /** Builds the servers of the current config and follows its changes; resolves once eager starts are done. */
  async start(): Promise<void> {
    this.opts.configStore.on('change', this.#onChange);
    if (this.opts.dormancyIntervalMs) {
      this.#timer = setInterval(() => this.checkDormancy(), this.opts.dormancyIntervalMs);
      this.#timer.unref();
    }
    await this.#enqueue(this.opts.configStore.current);
    await this.#starting;
  }

  /** Resolves once queued config changes are applied and their eager starts have finished. */
  async settled(): Promise<void> {
    await this.#applying;
    await this.#starting;
  }

  get(teamId: string, serverSlug: string, userId?: string): ManagedUpstream | undefined {
    return this.#entries.get(serverKey(teamId, serverSlug, userId))?.upstream;
  }

  /**
   * The servers a user of a team may use: the team's shared entries plus that user's own instances;
   * a user's own instance of a slug stands in for the team's shared one (one server per name).
   */
  forTeam(teamId: string, userId?: string): ManagedUpstream[] {
    const shared: ManagedUpstream[] = [];
    const own: ManagedUpstream[] = [];
    for (const { upstream } of this.#entries.values()) {
      if (upstream.teamId !== teamId) continue;
      const owner = upstream.config.user_id;
      if (owner === undefined) shared.push(upstream);
      else if (owner === userId) own.push(upstream);
    }
    const mine = new Set(own.map((u) => u.serverSlug));
    return [...shared.filter((u) => !mine.has(u.serverSlug)), ...own];
  }

  /** Lookup by the backend's installation id; all users' instances unless userId is given (used by src/backend/registry-targets.ts). */
  byInstallation(installationId: string, userId?: string): ManagedUpstream[] {
    return this.find({ installation_id: installationId, ...(userId !== undefined ? { user_id: userId } : {}) });
  }

  /** Lookup the way backend commands name a server: installation id or name, optionally narrowed by team and user. */
  find(ref: { installation_id?: string; installation_name?: string; team_id?: string; user_id?: string }): ManagedUpstream[] {
    if (ref.installation_id === undefined && ref.installation_name === undefined) return [];
    const out: ManagedUpstream[] = [];
    for (const { upstream } of this.#entries.values()) {
      const c = upstream.config;
      if (ref.installation_id !== undefined && c.installation_id !== ref.installation_id) continue;
      if (ref.installation_name !== undefined && c.installation_name !== ref.installation_name) continue;
      if (ref.team_id !== undefined && c.team_id !== ref.team_id) continue;
      if (ref.user_id !== undefined && c.user_id !== ref.user_id) continue;
      out.push(upstream);
    }
    return out;
  }

  /** Every hosted server of every team (memory budgets, src/budgets/), session instances included. */
  all(): ManagedUpstream[] {
    return [...[...this.#entries.values()].map((e) => e.upstream), ...this.#sessionInstances];
  }

  /**
   * A process of its own for one client session (stdio entries with session_affinity "per_session");
   * undefined for shared servers. Not started yet; releaseSession() stops it.
   */
  forSession(base: ManagedUpstream): ManagedUpstream | undefined {
    const config = base.config;
    if (this.#closed || config.session_affinity !== 'per_session' || config.transport_type !== 'stdio') return undefined;
    const own = this.#wrap(new StdioUpstream({ config, driver: this.opts.driver, events: this.events, log: this.opts.log, options: this.opts.stdio }));
    this.#sessionInstances.add(own);
    return own;
  }

  async releaseSession(own: ManagedUpstream): Promise<void> {
    if (!this.#sessionInstances.delete(own)) return;
    await own.close();
  }

  /** How many per-session processes exist (status, tests). */
  get sessionInstanceCount(): number {
    return this.#sessionInstances.size;
  }

  list(teamId?: string): ServerSnapshot[] {
    const out: ServerSnapshot[] = [];
    for (const { upstream } of this.#entries.values()) {
      if (teamId !== undefined && upstream.teamId !== teamId) continue;
      const instanceId = upstream.config.instance_id;
      out.push(instanceId === undefined ? upstream.snapshot() : { ...upstream.snapshot(), instanceId });
    }
    return out;
  }

  /** Explicit restart (clears permanently_failed); false when there is no such server. */
  async restart(teamId: string, serverSlug: string, userId?: string): Promise<boolean> {
    const upstream = this.get(teamId, serverSlug, userId);
    if (!upstream) return false;
    await upstream.restart();
    return true;
  }

  async stop(teamId: string, serverSlug: string, userId?: string): Promise<boolean> {
    const upstream = this.get(teamId, serverSlug, userId);
    if (!upstream) return false;
    await upstream.stop();
    return true;
  }

  /** Puts idle servers to sleep; returns how many went dormant. */
  checkDormancy(now: number = this.opts.stdio.now()): number {
    let n = 0;
    for (const { upstream } of this.#entries.values()) {
      try {
        if (upstream.checkDormancy(now)) n++;
      } catch (err) {
        this.opts.log.warn({ err, team_id: upstream.teamId, server_slug: upstream.serverSlug }, 'dormancy check failed');
      }
    }
    return n;
  }

  /**
   * The remote health probe job: probes every server that can be probed (remote http/sse ones),
   * a few at a time. Returns how many answered and how many failed.
   */
  async probeRemotes(timeoutMs: number, signal?: AbortSignal): Promise<{ ok: number; failed: number }> {
    const probes = [...this.#entries.values()].map((e) => e.upstream as ManagedUpstream & Partial<Probeable>)
      .filter((u) => typeof u.probe === 'function');
    const counts = { ok: 0, failed: 0 };
    for (let i = 0; i < probes.length && !signal?.aborted; i += PROBE_CONCURRENCY) {
      const outcomes = await Promise.all(probes.slice(i, i + PROBE_CONCURRENCY).map((u) => u.probe!(timeoutMs).catch(() => 'failed' as const)));
      for (const o of outcomes) if (o !== 'skipped') counts[o]++;
    }
    return counts;
  }

  /** Terminates every server (shutdown); the registry takes no more config changes. */
  async closeAll(): Promise<void> {
    this.#closed = true;
    this.opts.configStore.off('change', this.#onChange);
    if (this.#timer) clearInterval(this.#timer);
    await this.#applying.catch(() => {});
    const all = [...[...this.#entries.values()].map((e) => e.upstream), ...this.#sessionInstances];
    this.#entries.clear();
    this.#sessionInstances.clear();
    if (all.length > 0) this.opts.log.info({ count: all.length }, `stopping ${all.length} servers`);
    await Promise.allSettled(all.map((u) => u.close()));
  }

  #enqueue(config: StandaloneConfig): Promise<void> {
    const next = this.#applying.then(() => this.#apply(config));
    this.#applying = next.catch((err: unknown) => this.opts.log.error({ err }, 'applying server config failed'));
    return this.#applying;
  }

  async #apply(config: StandaloneConfig): Promise<void> {
    if (this.#closed) return;
    const wanted = new Map<string, McpServerConfig>();
    for (const server of Object.values(config.mcp_servers)) {
      if (server.enabled === false) continue;
      wanted.set(serverKey(server.team_id, server.server_slug, server.user_id), server);
    }
    const stops: Promise<void>[] = [];
    const starts: ManagedUpstream[] = [];
    let added = 0;
    let changed = 0;
    let removed = 0;
    for (const [key, entry] of this.#entries) {
      if (wanted.has(key)) continue;
      this.#entries.delete(key);
      removed++;
      stops.push(entry.upstream.close());
    }
    for (const [key, server] of wanted) {
      const fingerprint = stableStringify(server);
      const existing = this.#entries.get(key);
      if (existing?.fingerprint === fingerprint) continue;
      const upstream = this.#build(server);
      if (existing) {
        changed++;
        stops.push(existing.upstream.close());
      } else {
        added++;
      }
      if (!upstream) {
        this.#entries.delete(key);
        continue;
      }
      this.#entries.set(key, { upstream, fingerprint });
      if (this.opts.eager !== false) starts.push(upstream);
    }
    if (added + changed + removed > 0) this.opts.log.info({ added, changed, removed, total: this.#entries.size }, 'server config applied');
    await Promise.allSettled(stops);
    if (starts.length > 0) {
      this.opts.log.info({ count: starts.length }, `spawning ${starts.length} servers`);
      this.#starting = Promise.allSettled(starts.map((u) => u.start()));
    }
  }

  #build(config: McpServerConfig): ManagedUpstream | undefined {
    const log = this.opts.log;
    if (awaitsUserConfig(config)) return new AwaitingConfigUpstream(config);
    if (config.transport_type === 'stdio') {
      return this.#wrap(new StdioUpstream({ config, driver: this.opts.driver, events: this.events, log, options: this.opts.stdio }));
    }
    let upstream: ManagedUpstream | undefined;
    try {
      upstream = this.opts.remoteFactory?.(config, { events: this.events, log, ...(this.opts.upstreamTokens ? { upstreamTokens: this.opts.upstreamTokens } : {}) });
    } catch (err) {
      log.error({ err, team_id: config.team_id, server_slug: config.server_slug }, 'cannot build the upstream of this server: skipped');
      return undefined;
    }
    if (!upstream) log.warn({ team_id: config.team_id, server_slug: config.server_slug, transport: config.transport_type }, 'no upstream for this transport: server skipped');
    return upstream && this.#wrap(upstream);
  }

  #wrap(upstream: ManagedUpstream): ManagedUpstream {
    return this.opts.wrap ? this.opts.wrap(upstream) : upstream;
  }
}
