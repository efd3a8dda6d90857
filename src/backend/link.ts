import { join } from 'node:path';
import type { FastifyBaseLogger } from 'fastify';
import { ConfigError } from '../config/config-error';
import type { ConfigStore } from '../config/config-store';
import type { EnvConfig } from '../config/env';
import type { EventBus } from '../events/bus';
import { DurableEventQueue } from '../events/journal';
import { EventSender, type FlushOutcome } from '../events/sender';
import { VERSION } from '../version';
import { BackendClient, RegistrationRejectedError } from './client';
import { CommandExecutor } from './command-executor';
import { CommandLedger } from './command-ledger';
import { CommandPoller, type PollerOptions, type PollOutcome } from './command-poller';
import { UNWIRED_TARGETS, type CommandTargets } from './command-targets';
import { ConfigSync, type SyncOutcome } from './config-sync';
import { CredentialStore } from './credentials';
import { buildHeartbeat, type ProcessSource } from './heartbeat';
import { BackendHttpError } from './http';
import { MetricsSampler } from './metrics';
import { Registrar } from './registration';

export interface LinkIntervals {
  heartbeatMs: number;
  configCheckMs: number;
  connectRetryBaseMs: number;
  connectRetryMaxMs: number;
}

export const DEFAULT_INTERVALS: LinkIntervals = {
  heartbeatMs: 30_000,
  configCheckMs: 300_000,
  connectRetryBaseMs: 1_000,
  connectRetryMaxMs: 60_000
};

export interface BackendLinkOptions {
  env: EnvConfig;
  store: ConfigStore;
  events: EventBus;
  queue: DurableEventQueue | undefined;
  log: FastifyBaseLogger;
  intervals?: Partial<LinkIntervals>;
  targets?: CommandTargets;
  processes?: ProcessSource;
  onCommandExecuted?: PollerOptions['onExecuted'];
  /** True when the jobs plugin drives heartbeat, config checks, event flushing and command polls (pollIfDue() keeps the dynamic delay). */
  periodicByJobs?: boolean;
  fetchImpl?: typeof fetch;
}

export type LinkState = 'connecting' | 'connected' | 'stopped';

/**
 * The control-plane link in backend mode: registration, heartbeat, command polling, config sync
 * and event delivery. `start()` never blocks on the backend: it serves the persisted config and
 * connects in the background, retrying with backoff. Each periodic task is a plain async method.
 */
export class BackendLink {
  readonly client: BackendClient;
  readonly configSync: ConfigSync;
  readonly sender: EventSender | undefined;
  readonly #o: BackendLinkOptions;
  readonly #iv: LinkIntervals;
  readonly #registrar: Registrar;
  readonly #poller: CommandPoller;
  readonly #metrics: MetricsSampler;
  #targets: CommandTargets;
  #processes: ProcessSource;
  #explicitTargets: boolean;
  #explicitProcesses: boolean;
  #state: LinkState = 'connecting';
  #connecting: Promise<void> | undefined;
  #timers = new Set<NodeJS.Timeout>();
  #sleepers = new Set<() => void>();
  #sentSatelliteUrl = false;
  #timersStarted = false;
  #lastError: string | undefined;
  #lastHeartbeatAt: string | undefined;
  /** When the job-driven command poll is due next (undefined until connected). */
  #nextPollAt: number | undefined;

  constructor(opts: BackendLinkOptions) {
    const { env, log } = opts;
    const b = env.backend;
    if (!b.url || !b.satelliteName) throw new Error('backend link needs DEPLOYSTACK_BACKEND_URL and DEPLOYSTACK_SATELLITE_NAME');
    this.#o = opts;
    this.#iv = { ...DEFAULT_INTERVALS, ...opts.intervals };
    this.#targets = opts.targets ?? UNWIRED_TARGETS;
    this.#processes = opts.processes ?? (() => []);
    this.#explicitTargets = opts.targets !== undefined;
    this.#explicitProcesses = opts.processes !== undefined;
    this.client = new BackendClient(b.url, `satellite/${VERSION}`, () => this.#registrar.credentials, opts.fetchImpl);
    this.#registrar = new Registrar(this.client, new CredentialStore(b.credentialsFile), b.satelliteName, b.registrationToken, log);
    if (!b.registrationToken && !this.#registrar.credentials) {
      throw new ConfigError(`Missing environment variable DEPLOYSTACK_REGISTRATION_TOKEN: the credentials file ${b.credentialsFile} holds no usable API key`);
    }
    this.configSync = new ConfigSync(this.client, opts.store, opts.events, log, join(env.dataDir, 'backend', 'config.json'));
    const ledger = new CommandLedger(join(env.dataDir, 'backend', 'commands.json'));
    this.#poller = new CommandPoller(this.client, new CommandExecutor(this.configSync, () => this.#targets), ledger, log, {
      defaultIntervalMs: b.pollingIntervalSeconds * 1000,
      errorBackoffMaxMs: 300_000,
      onExecuted: opts.onCommandExecuted
    });
    this.#metrics = new MetricsSampler(env.dataDir);
    const ev = env.events;
    this.sender = opts.queue && new EventSender({
      queue: opts.queue,
      post: (events) => this.client.postEvents(events),
      maxBatchSize: ev.maxBatchSize,
      baseBackoffMs: ev.batchIntervalMs,
      maxBackoffMs: Math.min(60_000, ev.batchIntervalMs * 20),
      log
    });
  }

  get state(): LinkState {
    return this.#state;
  }

  get lastError(): string | undefined {
    return this.#lastError;
  }

  // A getter, so TypeScript does not narrow #state across awaits.
  get stopped(): boolean {
    return this.#state === 'stopped';
  }

  get lastHeartbeatAt(): string | undefined {
    return this.#lastHeartbeatAt;
  }

  /** The current API key (for DeployStack token introspection); undefined until registered. */
  get apiKey(): string | undefined {
    return this.#registrar.credentials?.api_key;
  }

  get satelliteId(): string | undefined {
    return this.#registrar.credentials?.satellite_id;
  }

  setTargets(targets: CommandTargets): void {
    this.#targets = targets;
    this.#explicitTargets = true;
  }

  /** Replaces some targets, keeping the others; `asDefault` ones never override setTargets(). */
  patchTargets(targets: Partial<CommandTargets>, asDefault = false): void {
    if (asDefault && this.#explicitTargets) return;
    this.#targets = { ...this.#targets, ...targets };
  }

  setProcessSource(source: ProcessSource, asDefault = false): void {
    if (asDefault && this.#explicitProcesses) return;
    this.#processes = source;
    if (!asDefault) this.#explicitProcesses = true;
  }

  /** Serves the persisted configuration and connects in the background; returns at once. */
  start(): void {
    this.configSync.loadPersisted();
    void this.connect();
  }

  /** Registers or verifies the key, sends the first heartbeat, syncs config, then starts the timers. */
  connect(): Promise<void> {
    this.#connecting ??= this.#connectLoop().finally(() => {
      this.#connecting = undefined;
    });
    return this.#connecting;
  }

  async sendHeartbeat(): Promise<void> {
    const status = await this.#heartbeatStatus();
    if (status === 401 || status === 403 || status === 404) {
      this.#o.log.warn({ status }, 'backend rejected the heartbeat; re-registering');
      this.#registrar.forget();
      this.#sentSatelliteUrl = false;
      this.#state = 'connecting';
      void this.connect();
      return;
    }
    if (status < 200 || status >= 300) throw new BackendHttpError(status, undefined, `heartbeat answered ${status}`);
  }

  pollCommands(): Promise<PollOutcome> {
    return this.#poller.poll();
  }

  /**
   * The 'backend-command-poll' job: polls when the next poll is due (the backend's
   * next_poll_interval hint or the error backoff decides when), else returns at once. A failed
   * poll throws, so the job's status shows the error.
   */
  async pollIfDue(): Promise<void> {
    if (this.#state !== 'connected' || this.#nextPollAt === undefined || Date.now() < this.#nextPollAt) return;
    const outcome = await this.pollCommands();
    this.#nextPollAt = Date.now() + outcome.nextDelayMs;
    if (!outcome.ok) throw new Error(`command poll failed${outcome.error ? `: ${outcome.error}` : ''}; next try in ${outcome.nextDelayMs} ms`);
  }

  syncConfig(reason = 'periodic check'): Promise<SyncOutcome> {
    return this.configSync.sync(reason);
  }

  flushEvents(): Promise<FlushOutcome> {
    return this.sender ? this.sender.flush() : Promise.resolve('empty');
  }

  /** Stops registration retries, polling and the other timers. */
  async stop(): Promise<void> {
    if (this.#state === 'stopped') return;
    this.#state = 'stopped';
    for (const t of this.#timers) clearTimeout(t);
    this.#timers.clear();
    for (const wake of this.#sleepers) wake();
  }

  /** Gives queued events `flushTimeoutMs` to leave, once the rest of the app has closed; the rest stay on disk. */
  async flushOnShutdown(): Promise<void> {
    if (this.sender && this.#registrar.credentials && this.#o.queue && this.#o.queue.size > 0) {
      const outcome = await this.sender.drain(this.#o.env.events.flushTimeoutMs);
      this.#o.log.info({ outcome, left: this.#o.queue.size }, 'events flushed on shutdown');
    }
  }

  async #heartbeatStatus(): Promise<number> {
    const first = !this.#sentSatelliteUrl;
    const body = await buildHeartbeat(this.#metrics, this.#safeProcesses(), first ? (this.#o.env.backend.satelliteUrl ?? '') : undefined);
    const res = await this.client.heartbeat(body);
    if (res.ok) {
      this.#sentSatelliteUrl = true;
      this.#lastHeartbeatAt = new Date().toISOString();
    }
    return res.status;
  }

  #safeProcesses(): ReturnType<ProcessSource> {
    try {
      return this.#processes();
    } catch (err) {
      this.#o.log.error({ err }, 'process snapshot failed; heartbeat sent without processes');
      return [];
    }
  }

  async #connectLoop(): Promise<void> {
    const log = this.#o.log;
    let delay = this.#iv.connectRetryBaseMs;
    for (let attempt = 1; this.#state !== 'stopped'; attempt++) {
      try {
        await this.#registrar.ensure(() => this.#heartbeatStatus());
        if (!this.#sentSatelliteUrl) await this.sendHeartbeat();
        if (this.stopped) return;
        this.#state = 'connected';
        this.#lastError = undefined;
        log.info({ satellite_id: this.satelliteId, attempt }, 'connected to the backend');
        await this.syncConfig('startup').catch((err: Error) => log.warn({ error: err.message }, 'initial config fetch failed; serving the persisted configuration'));
        this.#startTimers();
        return;
      } catch (err) {
        this.#lastError = (err as Error).message;
        if (err instanceof RegistrationRejectedError) {
          log.error({ code: err.code, error: err.message }, 'backend refused registration: check DEPLOYSTACK_REGISTRATION_TOKEN (tokens are single use and expire); retrying');
        } else {
          log.warn({ attempt, error: this.#lastError, retry_in_ms: delay }, 'backend not reachable; serving the last known configuration and retrying');
        }
        await this.#sleep(delay);
        delay = Math.min(this.#iv.connectRetryMaxMs, delay * 2);
      }
    }
  }

  #startTimers(): void {
    if (this.#state !== 'connected' || this.#timersStarted) return;
    this.#timersStarted = true;
    const log = this.#o.log;
    if (!this.#o.periodicByJobs) {
      this.#every(this.#iv.heartbeatMs, () => this.sendHeartbeat().catch((err: Error) => log.warn({ error: err.message }, 'heartbeat failed')));
      this.#every(this.#iv.configCheckMs, () => this.syncConfig().catch((err: Error) => log.warn({ error: err.message }, 'config check failed')));
      if (this.sender) this.#every(this.#o.env.events.batchIntervalMs, () => this.flushEvents());
    }
    // Under the job scheduler the 'backend-command-poll' job ticks and pollIfDue() keeps the delay.
    if (this.#o.periodicByJobs) {
      this.#nextPollAt = Date.now();
      return;
    }
    const pollLoop = async () => {
      const outcome = await this.pollCommands();
      this.#schedule(outcome.nextDelayMs, pollLoop);
    };
    this.#schedule(0, pollLoop);
  }

  // setTimeout chains, not setInterval: a slow run never overlaps the next.
  #every(ms: number, fn: () => Promise<unknown>): void {
    const run = async () => {
      await fn();
      this.#schedule(ms, run);
    };
    this.#schedule(ms, run);
  }

  #schedule(ms: number, fn: () => Promise<void>): void {
    if (this.#state === 'stopped') return;
    const t = setTimeout(() => {
      this.#timers.delete(t);
      fn().catch((err: unknown) => this.#o.log.error({ err }, 'backend link task failed'));
    }, ms);
    this.#timers.add(t);
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(t);
        this.#sleepers.delete(wake);
        resolve();
      };
      const t = setTimeout(wake, ms);
      this.#sleepers.add(wake);
    });
  }
}
