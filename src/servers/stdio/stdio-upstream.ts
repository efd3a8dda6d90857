// One stdio MCP server entry: spawns its process through the sandbox driver, initializes it,
// restarts it after crashes (with backoff, until permanently failed), puts it to sleep when idle.
import type { Logger } from 'pino';
import type { McpServerConfig } from '../../config/server-config';
import { ErrorCode, JsonRpcError, type JsonObject, type JsonRpcMessage } from '../../mcp/jsonrpc';
import { LATEST_PROTOCOL_VERSION, isSupportedProtocolVersion } from '../../mcp/protocol';
import type { SandboxDriver, SandboxSpawnPlan } from '../../sandbox/types';
import type { ServerEventEmitter, ServerEvents, ServerRef } from '../events';
import type { ManagedUpstream, ServerSnapshot } from '../managed';
import { SubscriptionSet } from '../subscription-set';
import type { ServerStatus, UpstreamCallOptions, UpstreamListener } from '../upstream';
import { ChildHandle, type ExitInfo } from './child-process';
import { CrashPolicy } from './crash-policy';
import { LineReader } from './line-reader';
import type { StdioRuntimeOptions } from './options';
import { REQUEST_CANCELLED, RpcChannel } from './rpc-channel';
import { LogLimiter } from './log-limiter';
import { StderrLog, type StderrLine } from './stderr-log';
import { StdinWriter } from './stdin-writer';
import { makeRedactor } from './redactor';

type SpawnKind = 'initial' | 'respawn' | 'crash_restart' | 'manual_restart';

/** One process of this entry, from spawn to exit. */
interface ProcessLife {
  handle: ChildHandle;
  rpc: RpcChannel;
  writer: StdinWriter;
  stderr: StderrLog;
  plan: SandboxSpawnPlan;
  startedAt: number;
  phase: 'starting' | 'online';
  /** Exit expected (stop, dormancy, restart): not a crash. */
  stopping: boolean;
  /** Why we killed it ourselves (framing violation). */
  failure?: string;
}

export interface StdioUpstreamDeps {
  config: McpServerConfig;
  driver: SandboxDriver;
  events: ServerEventEmitter;
  log: Logger;
  options: StdioRuntimeOptions;
}

const CLIENT_CAPABILITIES = { sampling: {}, elicitation: { form: {}, url: {} }, roots: { listChanged: true } };

export function describeExit(info: ExitInfo): string {
  if (info.error) return `could not be started (${(info.error as NodeJS.ErrnoException).code ?? info.error.message})`;
  if (info.signal) return `was killed by ${info.signal}`;
  return info.code === 0 ? 'exited unexpectedly with code 0' : `exited with code ${info.code}`;
}

function stderrLevel(line: string): 'info' | 'warn' | 'error' {
  if (/\b(error|fatal|exception|panic)\b/i.test(line)) return 'error';
  if (/\bwarn(ing)?\b/i.test(line)) return 'warn';
  return 'info';
}

export class StdioUpstream implements ManagedUpstream {
  readonly config: McpServerConfig;
  #status: ServerStatus = 'stopped';
  #life: ProcessLife | undefined;
  #starting: Promise<void> | undefined;
  #restartTimer: { timer: NodeJS.Timeout; reject(err: JsonRpcError): void } | undefined;
  /** Bumped by stop(): a start begun before it must not bring the process online. */
  #generation = 0;
  #listeners = new Set<UpstreamListener>();
  #policy: CrashPolicy;
  #restarts = 0;
  #lastError: string | undefined;
  #lastFailureAt = 0;
  #lastPid: number | undefined;
  #lastActivity: number;
  #dormantSince: number | undefined;
  #active = 0;
  #requestCount = 0;
  #errorCount = 0;
  #initializeResult: JsonObject | undefined;
  #toolsCount: number | undefined;
  #memoryEnforcement: ServerSnapshot['memoryEnforcement'];
  #lastStderr: StderrLog | undefined;
  /** Ignored stdout lines are logged a few a second at most (the stderr buffer has its own limit). */
  #ignoredLog: LogLimiter;
  #closed = false;
  readonly #ref: ServerRef;
  readonly #o: StdioRuntimeOptions;
  readonly #log: Logger;
  readonly #subscriptions: SubscriptionSet;
  readonly #redact: (text: string) => string;

  constructor(private readonly deps: StdioUpstreamDeps) {
    this.config = deps.config;
    this.#o = deps.options;
    this.#policy = new CrashPolicy(this.#o.crashPolicy);
    this.#ignoredLog = new LogLimiter(10, this.#o.now);
    this.#lastActivity = this.#o.now();
    const c = deps.config;
    this.#ref = { installationId: c.installation_id, installationName: c.installation_name, teamId: c.team_id, serverSlug: c.server_slug, ...(c.user_id ? { userId: c.user_id } : {}) };
    this.#redact = makeRedactor(Object.values(c.env ?? {}));
    this.#log = deps.log.child({ team_id: c.team_id, server_slug: c.server_slug, ...(c.user_id ? { user_id: c.user_id } : {}) });
    this.#subscriptions = new SubscriptionSet((m, p, o) => this.request(m, p, o), this.#log);
  }

  get teamId(): string {
    return this.config.team_id;
  }

  get serverSlug(): string {
    return this.config.server_slug;
  }

  get status(): ServerStatus {
    return this.#status;
  }

  get initializeResult(): JsonObject | undefined {
    return this.#initializeResult;
  }

  get pid(): number | undefined {
    return this.#life?.handle.pid;
  }

  /** The last stderr lines (redacted), also after the process died. */
  logs(): StderrLine[] {
    return (this.#life?.stderr ?? this.#lastStderr)?.lines() ?? [];
  }

  addListener(listener: UpstreamListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  async start(): Promise<void> {
    try {
      await this.ensureReady();
    } catch {
      // Shown in status and lastError.
    }
  }

  ensureReady(): Promise<void> {
    if (this.#status === 'online' && this.#life) return Promise.resolve();
    if (this.#starting) return this.#starting;
    if (this.#closed) return Promise.reject(this.#error(`Server ${this.serverSlug} is shut down`));
    if (this.#status === 'permanently_failed') {
      return Promise.reject(this.#error(`Server ${this.serverSlug} crashed ${this.#policy.count} times within ${Math.round(this.#o.crashPolicy.windowMs / 1000)} s and was stopped; it needs a restart or a config change (last error: ${this.#lastError ?? 'unknown'})`));
    }
    if (this.#status === 'error' && this.#o.now() - this.#lastFailureAt < this.#o.errorRetryMs) {
      return Promise.reject(this.#error(this.#lastError ?? `Server ${this.serverSlug} failed to start`));
    }
    return this.#begin(this.#status === 'dormant' ? 'respawn' : 'initial');
  }

  async request(method: string, params: JsonObject | undefined, options: UpstreamCallOptions = {}): Promise<JsonObject> {
    if (SubscriptionSet.handles(method, params, options)) return this.#subscriptions.request(method, params!, options);
    const counted = options.background !== true;
    this.#active++;
    if (counted) {
      this.#requestCount++;
      this.#lastActivity = this.#o.now();
    }
    const timeoutMs = options.timeoutMs ?? this.config.timeout ?? this.#o.requestTimeoutMs;
    try {
      const t0 = this.#o.now();
      await this.#readyWithin(timeoutMs, options.signal);
      const life = this.#life;
      if (!life || life.phase !== 'online') throw this.#error(`Server ${this.serverSlug} is not running`);
      // Waiting for a (re)start counts against the caller's timeout.
      const remaining = Math.max(1, timeoutMs - (this.#o.now() - t0));
      const result = await life.rpc.request(method, params, { ...options, timeoutMs: remaining });
      if (method === 'tools/list' && params?.cursor === undefined && result.nextCursor === undefined && Array.isArray(result.tools)) {
        this.#toolsCount = result.tools.length;
      }
      return result;
    } catch (err) {
      if (counted) this.#errorCount++;
      // The caller's timeout in the error, not what was left of it after waiting for a start.
      if (err instanceof JsonRpcError && err.code === ErrorCode.RequestTimeout && typeof (err.data as JsonObject | undefined)?.timeout === 'number') {
        throw new JsonRpcError(err.code, err.message, { ...(err.data as JsonObject), timeout: timeoutMs });
      }
      throw err;
    } finally {
      this.#active--;
      if (counted) this.#lastActivity = this.#o.now();
    }
  }

  /** ensureReady(), but a caller waiting for a start or a restart backoff still gets its timeout and can cancel. */
  #readyWithin(timeoutMs: number, signal: AbortSignal | undefined): Promise<void> {
    const ready = this.ensureReady();
    if (this.#status === 'online' && this.#life) return ready;
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new JsonRpcError(ErrorCode.RequestTimeout, 'Request timed out', { timeout: timeoutMs, waitingFor: `server ${this.serverSlug} to start` })), timeoutMs);
      const onAbort = (): void => reject(new JsonRpcError(REQUEST_CANCELLED, 'Request cancelled'));
      if (signal?.aborted) onAbort();
      signal?.addEventListener('abort', onAbort, { once: true });
      ready.then(resolve, reject).finally(() => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
      });
    });
  }

  notify(method: string, params?: JsonObject): void {
    const life = this.#life;
    if (!life || life.phase !== 'online') return;
    try {
      life.rpc.notify(method, params);
    } catch (err) {
      this.#log.debug({ err, method }, 'notification to server dropped');
    }
  }

  async restart(): Promise<void> {
    if (this.#closed) throw this.#error(`Server ${this.serverSlug} is shut down`);
    this.#policy.reset();
    await this.#halt('restarting');
    await this.#begin('manual_restart').catch(() => {});
  }

  async stop(): Promise<void> {
    await this.#halt('stopped');
  }

  async close(): Promise<void> {
    this.#closed = true;
    await this.#halt('stopped');
  }

  checkDormancy(now: number): boolean {
    const life = this.#life;
    if (this.#status !== 'online' || !life || this.#o.idleTimeoutMs <= 0) return false;
    if (this.#active > 0 || life.rpc.inFlight > 0) return false;
    if (now - life.startedAt < this.#o.spawnGraceMs || now - this.#lastActivity < this.#o.idleTimeoutMs) return false;
    return this.#sleep(life, now);
  }

  /** Memory pressure (src/budgets/): goes dormant now unless a call is in flight, whatever the idle timers say. */
  sleepNow(now: number = this.#o.now()): boolean {
    const life = this.#life;
    if (this.#status !== 'online' || !life || this.#active > 0 || life.rpc.inFlight > 0) return false;
    return this.#sleep(life, now);
  }

  #sleep(life: ProcessLife, now: number): boolean {
    this.#dormantSince = now;
    life.stopping = true;
    this.#life = undefined;
    this.#setStatus('dormant');
    this.#emit('dormant', {
      ...this.#ref,
      pid: life.handle.pid,
      idle_duration_seconds: Math.round((now - this.#lastActivity) / 1000),
      last_activity_at: new Date(this.#lastActivity).toISOString()
    });
    this.#log.info({ pid: life.handle.pid }, 'idle server went dormant');
    life.rpc.close(this.#error(`Server ${this.serverSlug} went dormant`));
    life.writer.end();
    void life.handle.terminate(this.#o.terminate);
    return true;
  }

  snapshot(): ServerSnapshot {
    const life = this.#life;
    const now = this.#o.now();
    return {
      teamId: this.teamId,
      serverSlug: this.serverSlug,
      ...(this.config.user_id ? { userId: this.config.user_id } : {}),
      installationId: this.config.installation_id,
      installationName: this.config.installation_name,
      transport: 'stdio',
      status: this.#status,
      ...(life?.handle.pid !== undefined ? { pid: life.handle.pid, uptimeSeconds: Math.round((now - life.startedAt) / 1000) } : {}),
      restarts: this.#restarts,
      crashCount: this.#policy.count,
      ...(this.#memoryEnforcement ? { memoryEnforcement: this.#memoryEnforcement } : {}),
      ...(this.#toolsCount !== undefined ? { toolsCount: this.#toolsCount } : {}),
      ...(this.#lastError ? { lastError: this.#lastError } : {}),
      lastActivityAt: new Date(this.#lastActivity).toISOString(),
      requestCount: this.#requestCount,
      errorCount: this.#errorCount
    };
  }

  /** A throwing subscriber must not break supervision (or, from a stream callback, the satellite). */
  #emit<K extends keyof ServerEvents>(name: K, payload: ServerEvents[K][0]): void {
    try {
      (this.deps.events.emit as (n: K, p: ServerEvents[K][0]) => boolean)(name, payload);
    } catch (err) {
      this.#log.error({ err, event: name }, 'server event subscriber failed');
    }
  }

  #error(message: string): JsonRpcError {
    return new JsonRpcError(ErrorCode.ConnectionClosed, message);
  }

  #setStatus(next: ServerStatus, message?: string): void {
    const previous = this.#status;
    if (previous === next) return;
    this.#status = next;
    this.#emit('status_changed', { ...this.#ref, status: next, previous, ...(message ? { message } : {}) });
    for (const l of this.#listeners) {
      try {
        l.onStatus?.(next);
      } catch (err) {
        this.#log.warn({ err }, 'status listener failed');
      }
    }
  }

  /** Single flight: every caller waits for the same start. */
  #begin(kind: SpawnKind): Promise<void> {
    const p: Promise<void> = this.#spawn(kind).finally(() => {
      if (this.#starting === p) this.#starting = undefined;
    });
    this.#starting = p;
    p.catch(() => {});
    return p;
  }

  /** Stops the current process (and any pending restart) on purpose. */
  async #halt(status: 'stopped' | 'restarting'): Promise<void> {
    this.#generation++;
    if (this.#restartTimer) {
      clearTimeout(this.#restartTimer.timer);
      this.#restartTimer.reject(this.#error(`Server ${this.serverSlug} was stopped`));
      this.#restartTimer = undefined;
    }
    this.#starting = undefined;
    const life = this.#life;
    this.#life = undefined;
    this.#setStatus(status);
    if (!life) return;
    life.stopping = true;
    life.rpc.close(this.#error(`Server ${this.serverSlug} was stopped`));
    // Queued writes are dropped: closing stdin is the first step of a clean stop.
    life.writer.end();
    await life.handle.terminate(this.#o.terminate);
    if (status === 'stopped') this.#emit('stopped', { ...this.#ref, pid: life.handle.pid });
  }

  async #spawn(kind: SpawnKind): Promise<void> {
    const generation = this.#generation;
    const t0 = this.#o.now();
    const oldPid = this.#lastPid;
    this.#setStatus(kind === 'crash_restart' || kind === 'manual_restart' ? 'restarting' : 'starting');
    if (kind === 'initial' || kind === 'respawn') this.#log.info({ kind }, 'spawning server');
    let life: ProcessLife | undefined;
    let plan: SandboxSpawnPlan | undefined;
    try {
      const c = this.config;
      plan = this.#cleanOnce(await this.deps.driver.plan({
        teamId: c.team_id,
        teamSlug: c.team_slug,
        serverSlug: c.server_slug,
        ...(c.user_id ? { userId: c.user_id } : {}),
        command: c.command ?? '',
        args: c.args ?? [],
        env: c.env ?? {},
        ...(c.cwd ? { cwd: c.cwd } : {}),
        ...(c.network ? { network: c.network } : {}),
        limits: this.#o.limits
      }));
      this.#checkGeneration(generation);
      life = this.#launch(plan);
      const pid = life.handle.pid;
      if (pid !== undefined) await plan.attach?.(pid);
      this.#checkGeneration(generation);
      const result = await life.rpc.request('initialize', { protocolVersion: LATEST_PROTOCOL_VERSION, capabilities: CLIENT_CAPABILITIES, clientInfo: this.#o.clientInfo }, { timeoutMs: this.#o.startupTimeoutMs });
      this.#checkGeneration(generation);
      if (typeof result.protocolVersion !== 'string' || !isSupportedProtocolVersion(result.protocolVersion)) {
        throw new Error(`it answered initialize with unsupported protocol version ${JSON.stringify(result.protocolVersion)}`);
      }
      life.rpc.notify('notifications/initialized');
      this.#initializeResult = result;
      this.#memoryEnforcement = plan.memoryEnforcement;
      life.phase = 'online';
      this.#lastError = undefined;
      this.#lastPid = pid;
      this.#lastActivity = this.#o.now();
      this.#setStatus('online');
      this.#subscriptions.renew();
      this.#announce(kind, pid!, oldPid, this.#o.now() - t0);
    } catch (err) {
      // Did it die on its own, before we gave up on it?
      const early = life?.handle.exit;
      if (life) {
        life.stopping = true;
        if (this.#life === life) this.#life = undefined;
        life.handle.kill();
      } else {
        // Never launched (stopped while planning, spawn threw): no exit will clean up after it.
        this.#cleanup(plan);
      }
      if (generation !== this.#generation) throw this.#error(`Server ${this.serverSlug} was stopped while starting`);
      const exit = early ?? (life ? await life.handle.exited : { code: null, signal: null });
      const timedOut = err instanceof JsonRpcError && err.code === ErrorCode.RequestTimeout;
      const why = life?.failure ?? (early ? describeExit(early) : timedOut ? `it did not answer initialize within ${this.#o.startupTimeoutMs} ms` : (err as Error).message);
      // Enough of stderr to show the cause (a stack trace's first line included), not a flood.
      const tail = life?.stderr.tail(12).slice(-1200);
      const message = `Server ${this.serverSlug} failed to start: ${why}${tail ? ` (stderr: ${tail})` : ''}`;
      this.#log.warn({ why }, 'server failed to start');
      if (kind === 'crash_restart') {
        this.#crashed(life?.handle.pid, message, exit, 0);
      } else {
        this.#lastError = message;
        this.#lastFailureAt = this.#o.now();
        this.#setStatus('error', message);
      }
      throw this.#error(message);
    }
  }

  /** Every plan made is cleaned up exactly once, whichever path ends it. */
  #cleanOnce(plan: SandboxSpawnPlan): SandboxSpawnPlan {
    const cleanup = plan.cleanup?.bind(plan);
    if (!cleanup) return plan;
    let done: Promise<void> | undefined;
    return { ...plan, cleanup: () => (done ??= cleanup()) };
  }

  #cleanup(plan: SandboxSpawnPlan | undefined): void {
    plan?.cleanup?.().catch((err: unknown) => this.#log.warn({ err }, 'sandbox cleanup failed'));
  }

  #checkGeneration(generation: number): void {
    if (generation !== this.#generation) throw this.#error(`Server ${this.serverSlug} was stopped while starting`);
  }

  #announce(kind: SpawnKind, pid: number, oldPid: number | undefined, ms: number): void {
    this.#log.info({ pid, spawn_duration_ms: ms, kind }, 'server online');
    this.#emit('started', { ...this.#ref, pid, spawn_duration_ms: ms });
    if (kind === 'respawn') {
      const since = this.#dormantSince ?? this.#o.now();
      this.#emit('respawned', { ...this.#ref, pid, dormant_duration_seconds: Math.round((this.#o.now() - since) / 1000), respawn_duration_ms: ms });
      this.#dormantSince = undefined;
    } else if (kind === 'crash_restart' || kind === 'manual_restart') {
      if (kind === 'crash_restart') this.#restarts++;
      this.#emit('restarted', { ...this.#ref, old_pid: oldPid, new_pid: pid, restart_reason: kind === 'crash_restart' ? 'crash' : 'manual', attempt_number: this.#policy.count });
    }
  }

  #launch(plan: SandboxSpawnPlan): ProcessLife {
    const handle = new ChildHandle(plan);
    const writer = new StdinWriter(handle.child.stdin, this.#o.maxStdinQueueBytes);
    const stderr = new StderrLog(
      { ...this.#o.stderr, secrets: Object.values(this.config.env ?? {}), now: this.#o.now },
      (l) => {
        this.#log.debug({ stderr: l.line }, 'server stderr');
        this.#emit('logs', { ...this.#ref, lines: [{ level: stderrLevel(l.line), message: l.line, timestamp: new Date(l.timestamp).toISOString() }] });
      },
      (dropped) => this.#emit('log_rate_limited', { ...this.#ref, dropped_count: dropped, time_window_seconds: 1, rate_limit: this.#o.stderr.linesPerSecond })
    );
    const rpc = new RpcChannel({
      write: (msg: JsonRpcMessage) => writer.write(JSON.stringify(msg) + '\n'),
      listeners: () => this.#listeners,
      log: this.#log,
      defaultTimeoutMs: this.#o.requestTimeoutMs,
      ...(this.#o.maxRequestTimeoutMs !== undefined ? { maxTimeoutMs: this.#o.maxRequestTimeoutMs } : {})
    });
    const life: ProcessLife = { handle, rpc, writer, stderr, plan, startedAt: this.#o.now(), phase: 'starting', stopping: false };
    const reader = new LineReader(
      this.#o.maxLineBytes,
      (line) => this.#onLine(life, line),
      (bytes) => {
        life.failure = `wrote a message line of more than ${this.#o.maxLineBytes} bytes (${bytes} so far)`;
        this.#log.error({ bytes, limit: this.#o.maxLineBytes }, 'stdout line too long: killing the server');
        rpc.close(this.#error(`Server ${this.serverSlug} ${life.failure}; it is being restarted`));
        handle.kill();
      }
    );
    handle.child.stdout.on('data', (chunk: Buffer) => reader.push(chunk));
    handle.child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
    this.#life = life;
    this.#lastStderr = stderr;
    void handle.exited.then((info) => this.#onExit(life, info));
    return life;
  }

  #onLine(life: ProcessLife, line: string): void {
    let msg: unknown;
    try {
      msg = JSON.parse(line);
    } catch {
      this.#warnIgnored(line, 'non-JSON output on stdout ignored');
      return;
    }
    try {
      if (!life.rpc.handle(msg)) this.#warnIgnored(line, 'stdout message that is not JSON-RPC ignored');
    } catch (err) {
      // A caller's or listener's callback threw: that is their bug, not the server's.
      this.#log.error({ err }, 'handling a server message failed');
    }
  }

  #warnIgnored(line: string, what: string): void {
    const { log, suppressed } = this.#ignoredLog.take();
    if (log) this.#log.warn({ line: this.#redact(line).slice(0, 200), ...(suppressed > 0 ? { suppressedBefore: suppressed } : {}) }, what);
  }

  #onExit(life: ProcessLife, info: ExitInfo): void {
    life.stderr.end();
    life.writer.end();
    const reason = life.failure ?? describeExit(info);
    life.rpc.close(this.#error(`Server ${this.serverSlug} ${reason}`));
    this.#cleanup(life.plan);
    // A start in progress handles its own failure; an intended stop is not a crash.
    if (life.stopping || life.phase !== 'online' || this.#life !== life) return;
    this.#life = undefined;
    this.#crashed(life.handle.pid, `Server ${this.serverSlug} ${reason}`, info, this.#o.now() - life.startedAt);
  }

  #crashed(pid: number | undefined, message: string, exit: ExitInfo, uptimeMs: number): void {
    const { count, delayMs } = this.#policy.record(this.#o.now());
    this.#lastError = message;
    this.#log.warn({ pid, exit_code: exit.code, signal: exit.signal, crash_count: count, restart_in_ms: delayMs }, 'server crashed');
    this.#emit('crashed', {
      ...this.#ref,
      pid,
      exit_code: exit.code,
      signal: exit.signal,
      uptime_seconds: Math.round(uptimeMs / 1000),
      crash_count: count,
      will_restart: delayMs !== undefined,
      reason: message
    });
    if (delayMs === undefined) {
      this.#setStatus('permanently_failed', message);
      this.#emit('permanently_failed', { ...this.#ref, total_crashes: count, last_error: message });
      return;
    }
    this.#setStatus('restarting', message);
    const generation = this.#generation;
    const p: Promise<void> = new Promise<void>((resolve, reject) => {
      this.#restartTimer = {
        reject,
        timer: setTimeout(() => {
          this.#restartTimer = undefined;
          if (generation !== this.#generation) return reject(this.#error(`Server ${this.serverSlug} was stopped`));
          this.#spawn('crash_restart').then(resolve, reject);
        }, delayMs)
      };
    }).finally(() => {
      if (this.#starting === p) this.#starting = undefined;
    });
    this.#starting = p;
    p.catch(() => {});
  }
}
