// An Upstream for a remote MCP server (Streamable HTTP or legacy SSE): one MCP session per
// configured server, re-initialized when the server forgets it, with per-call routing of
// progress, logging and server→client requests.
import type { BaseLogger } from 'pino';
import { ErrorCode, JsonRpcError, errorResponse, successResponse, type JsonObject, type JsonRpcId, type JsonRpcMessage, type JsonRpcNotification, type JsonRpcRequest, type JsonRpcResponse } from '../../mcp/jsonrpc';
import { LATEST_PROTOCOL_VERSION, isSupportedProtocolVersion } from '../../mcp/protocol';
import type { McpServerConfig } from '../../config/server-config';
import { CallDeadline } from '../call-deadline';
import type { ServerEventEmitter, ServerRef } from '../events';
import type { ManagedUpstream, ServerSnapshot } from '../managed';
import { SubscriptionSet } from '../subscription-set';
import type { ServerStatus, UpstreamCallOptions, UpstreamListener } from '../upstream';
import type { RemoteConnection } from './connection';
import { protocolError, SessionExpiredError, TransportError, timeoutError } from './errors';
import { ReauthRequiredError } from './oauth-auth';

export type Log = Pick<BaseLogger, 'debug' | 'info' | 'warn' | 'error'>;

/** A failed server is not retried more often than this (calls in between get the last error). */
const RETRY_AFTER_MS = 1000;
const MAX_RECOVERY_DELAY_MS = 30_000;
/** What the satellite can route to its own clients. */
const CLIENT_CAPABILITIES = { sampling: {}, elicitation: {}, roots: { listChanged: true } };

interface PendingCall {
  options: UpstreamCallOptions;
  progress?: { original: string | number; ours: string };
  deadline?: CallDeadline;
  resolve(result: JsonObject): void;
  reject(err: Error): void;
}

export interface RemoteUpstreamOptions {
  config: McpServerConfig;
  timeoutMs: number;
  /** Upper bound progress may push a call's deadline to (MCP_REQUEST_MAX_TIMEOUT_MS). */
  maxTimeoutMs?: number;
  /** Lifecycle events (status_changed) for the event system. */
  events?: ServerEventEmitter;
  clientInfo: { name: string; version: string };
  log: Log;
}

export class RemoteUpstream implements ManagedUpstream {
  readonly teamId: string;
  readonly serverSlug: string;
  readonly config: McpServerConfig;
  readonly #ref: ServerRef;
  #sessions = 0;
  #lastActivity: number | undefined;
  #toolsCount: number | undefined;
  #status: ServerStatus = 'starting';
  #init: JsonObject | undefined;
  #lastError: JsonRpcError | undefined;
  #lastAttempt = 0;
  #connecting: Promise<void> | undefined;
  #generation = 0;
  #nextId = 1;
  #closed = false;
  #recovery: NodeJS.Timeout | undefined;
  #recoveryAttempts = 0;
  readonly #pending = new Map<JsonRpcId, PendingCall>();
  readonly #progress = new Map<string, PendingCall>();
  readonly #listeners = new Set<UpstreamListener>();
  readonly #conn: RemoteConnection;
  readonly #subscriptions: SubscriptionSet;

  constructor(
    private readonly opts: RemoteUpstreamOptions,
    connect: (events: RemoteUpstream) => RemoteConnection,
    private readonly release: () => Promise<void> = async () => undefined
  ) {
    this.config = opts.config;
    this.teamId = opts.config.team_id;
    this.serverSlug = opts.config.server_slug;
    this.#ref = {
      installationId: opts.config.installation_id, installationName: opts.config.installation_name, teamId: this.teamId,
      serverSlug: this.serverSlug, ...(opts.config.user_id !== undefined ? { userId: opts.config.user_id } : {})
    };
    this.#conn = connect(this);
    this.#subscriptions = new SubscriptionSet((m, p, o) => this.request(m, p, o), opts.log);
  }

  get status(): ServerStatus {
    return this.#status;
  }

  get initializeResult(): JsonObject | undefined {
    return this.#init;
  }

  /** Why the server is not online, in words (undefined when it is). */
  get lastError(): string | undefined {
    return this.#status === 'online' ? undefined : this.#lastError?.message;
  }

  get transport(): 'http' | 'sse' {
    return this.#conn.kind;
  }

  addListener(listener: UpstreamListener): () => void {
    this.#listeners.add(listener);
    return () => void this.#listeners.delete(listener);
  }

  ensureReady(): Promise<void> {
    if (this.#closed) return Promise.reject(new JsonRpcError(ErrorCode.ConnectionClosed, `Server '${this.serverSlug}' is stopped.`));
    if (this.#status === 'online') return Promise.resolve();
    if (!this.#connecting) {
      if (this.#lastError && Date.now() - this.#lastAttempt < RETRY_AFTER_MS) return Promise.reject(this.#lastError);
      this.#connecting = this.#connect().finally(() => (this.#connecting = undefined));
    }
    return this.#connecting;
  }

  async request(method: string, params: JsonObject | undefined, options: UpstreamCallOptions = {}): Promise<JsonObject> {
    if (SubscriptionSet.handles(method, params, options)) return this.#subscriptions.request(method, params!, options);
    await this.ensureReady();
    if (options.background !== true) this.#lastActivity = Date.now();
    const generation = this.#generation;
    try {
      const result = await this.#call(method, params, options);
      // For status pages, as stdio servers report it (a single-page list only).
      if (method === 'tools/list' && Array.isArray(result.tools) && result.nextCursor === undefined && params?.cursor === undefined) this.#toolsCount = result.tools.length;
      return result;
    } catch (err) {
      if (!(err instanceof SessionExpiredError)) throw this.#noteFailure(err);
      this.#sessionLost(generation);
      await this.ensureReady();
      return this.#call(method, params, options).catch((again) => {
        throw this.#noteFailure(again instanceof SessionExpiredError ? protocolError(this.serverSlug, 'it forgot a session it had just created') : again);
      });
    }
  }

  notify(method: string, params?: JsonObject): void {
    if (this.#status !== 'online') return;
    const n: JsonRpcNotification = params === undefined ? { jsonrpc: '2.0', method } : { jsonrpc: '2.0', method, params };
    this.#conn.send(n, {}).catch((err) => this.opts.log.debug({ err, method }, 'notification to remote server failed'));
  }

  /** Eager start: a failure shows in status, never thrown. */
  async start(): Promise<void> {
    await this.ensureReady().catch(() => undefined);
  }

  /** Ends the session; the next call opens a new one. */
  async stop(): Promise<void> {
    this.#cancelRecovery();
    this.#rejectAll(new JsonRpcError(ErrorCode.ConnectionClosed, `Server '${this.serverSlug}' was stopped.`));
    await this.#conn.close();
    this.#setStatus('stopped');
  }

  async restart(): Promise<void> {
    await this.stop();
    this.#lastError = undefined;
    await this.start();
  }

  /**
   * The health probe job: a cheap request (ping; tools/list when the server has no ping) to an
   * idle online server; a server that does not answer in `timeoutMs` goes to error and the
   * background reconnect takes over. An errored server is tried again, and comes back online on
   * success. Servers with a call in flight, waiting on a user, or stopped are left alone.
   */
  async probe(timeoutMs: number): Promise<'ok' | 'failed' | 'skipped'> {
    if (this.#closed || this.#pending.size > 0 || this.#connecting) return 'skipped';
    if (this.#status === 'error') {
      this.#lastAttempt = 0;
      return this.ensureReady().then(() => 'ok' as const, () => 'failed' as const);
    }
    if (this.#status !== 'online') return 'skipped';
    const generation = this.#generation;
    try {
      await this.#call('ping', undefined, { timeoutMs }).catch((err: unknown) => {
        if ((err as { code?: number }).code !== ErrorCode.MethodNotFound) throw err;
        return this.#call('tools/list', {}, { timeoutMs });
      });
      return 'ok';
    } catch (err) {
      if (err instanceof SessionExpiredError) {
        this.#sessionLost(generation);
        return this.ensureReady().then(() => 'ok' as const, () => 'failed' as const);
      }
      // An error the server answered means it is alive; no answer or a broken link means it is not.
      if (err instanceof JsonRpcError && !(err instanceof TransportError) && err.code !== ErrorCode.RequestTimeout) return 'ok';
      if (generation !== this.#generation || this.#status !== 'online') return 'failed';
      this.#noteFailure(err instanceof TransportError ? err : new TransportError(`Server '${this.serverSlug}' failed its health probe: ${(err as Error).message}`));
      return 'failed';
    }
  }

  /** Remote servers cost nothing while idle: they never go dormant. */
  checkDormancy(): boolean {
    return false;
  }

  snapshot(): ServerSnapshot {
    const c = this.config;
    return {
      teamId: this.teamId, serverSlug: this.serverSlug, ...(c.user_id !== undefined ? { userId: c.user_id } : {}),
      installationId: c.installation_id, installationName: c.installation_name, transport: c.transport_type, status: this.#status,
      restarts: Math.max(0, this.#sessions - 1), crashCount: 0,
      ...(this.lastError ? { lastError: this.lastError } : {}),
      ...(this.#toolsCount !== undefined ? { toolsCount: this.#toolsCount } : {}),
      ...(this.#lastActivity ? { lastActivityAt: new Date(this.#lastActivity).toISOString() } : {})
    };
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#cancelRecovery();
    this.#rejectAll(new JsonRpcError(ErrorCode.ConnectionClosed, `Server '${this.serverSlug}' was stopped.`));
    await this.#conn.close();
    await this.release();
    this.#setStatus('stopped');
  }

  // ConnectionEvents
  onMessage(message: JsonRpcMessage, relatedId?: JsonRpcId): void {
    if (!('method' in message)) return this.#settle(message);
    // Legacy SSE carries no stream per call: with one call in flight, it is that call's.
    const call = relatedId !== undefined ? this.#pending.get(relatedId)
      : !this.#conn.attributesMessages && this.#pending.size === 1 ? this.#pending.values().next().value : undefined;
    if ('id' in message) {
      void this.#answer(message, call);
      return;
    }
    if (message.method === 'notifications/progress') {
      const p = this.#progress.get(String(message.params?.progressToken));
      if (p?.progress) {
        p.deadline?.extend();
        p.options.onNotification?.({ ...message, params: { ...message.params, progressToken: p.progress.original } });
      }
      return;
    }
    if (message.method === 'notifications/message' && call?.options.onNotification) return call.options.onNotification(message);
    for (const l of this.#listeners) l.onNotification?.(message);
  }

  onDown(error: Error): void {
    this.#noteFailure(error);
  }

  onLost(error: Error): void {
    if (error instanceof SessionExpiredError) return this.#sessionLost(this.#generation);
    this.#rejectAll(error);
    this.#noteFailure(error);
  }

  async #connect(): Promise<void> {
    this.#lastAttempt = Date.now();
    this.#generation++;
    this.#setStatus(this.#init ? 'restarting' : 'starting');
    try {
      await this.#conn.open(AbortSignal.timeout(this.opts.timeoutMs));
      const result = await this.#call('initialize', {
        protocolVersion: LATEST_PROTOCOL_VERSION, capabilities: CLIENT_CAPABILITIES, clientInfo: this.opts.clientInfo
      }, {});
      const version = result.protocolVersion;
      if (typeof version !== 'string' || !isSupportedProtocolVersion(version)) {
        throw protocolError(this.serverSlug, `unsupported protocol version ${JSON.stringify(version)}`);
      }
      this.#conn.ready(version);
      await this.#conn.send({ jsonrpc: '2.0', method: 'notifications/initialized' }, { timeoutMs: this.opts.timeoutMs });
      this.#init = result;
      this.#lastError = undefined;
      this.#sessions++;
      this.#cancelRecovery();
      this.#setStatus('online');
      this.#subscriptions.renew();
      this.opts.log.info({ server: this.serverSlug, protocolVersion: version }, 'remote MCP server online');
    } catch (err) {
      const e = err instanceof JsonRpcError ? err : err instanceof SessionExpiredError
        ? protocolError(this.serverSlug, 'it refused a new session') : new TransportError(`Server '${this.serverSlug}' could not be reached: ${(err as Error).message}`);
      this.#lastError = e;
      this.#setStatus(e instanceof ReauthRequiredError ? 'requires_reauth' : 'error');
      this.opts.log.warn({ server: this.serverSlug, error: e.message }, 'remote MCP server unavailable');
      this.#scheduleRecovery();
      throw e;
    }
  }

  #call(method: string, params: JsonObject | undefined, options: UpstreamCallOptions): Promise<JsonObject> {
    const id = this.#nextId++;
    const timeoutMs = options.timeoutMs ?? this.opts.timeoutMs;
    const abort = new AbortController();
    return new Promise<JsonObject>((resolve, reject) => {
      const call: PendingCall = { options, resolve: () => undefined, reject: () => undefined };
      const meta = params?._meta as JsonObject | undefined;
      const token = meta?.progressToken;
      // Tokens are unique per client only: ours are unique per server.
      if (typeof token === 'string' || typeof token === 'number') {
        call.progress = { original: token, ours: `${this.#generation}-${id}` };
        params = { ...params, _meta: { ...meta, progressToken: call.progress.ours } };
        this.#progress.set(call.progress.ours, call);
      }
      const onAbort = (): void => cancel(new JsonRpcError(ErrorCode.RequestTimeout, 'Request cancelled by the client.'), 'cancelled by the client');
      const deadline = new CallDeadline(timeoutMs, options.maxTimeoutMs ?? this.opts.maxTimeoutMs, () => cancel(timeoutError(this.serverSlug, timeoutMs), `timed out after ${timeoutMs} ms`));
      call.deadline = deadline;
      const finish = (): boolean => {
        if (!this.#pending.has(id)) return false;
        this.#pending.delete(id);
        if (call.progress) this.#progress.delete(call.progress.ours);
        deadline.clear();
        options.signal?.removeEventListener('abort', onAbort);
        return true;
      };
      call.resolve = (r) => finish() && resolve(r);
      call.reject = (e) => finish() && reject(e);
      const cancel = (err: Error, reason: string): void => {
        if (!this.#pending.has(id)) return;
        call.reject(err);
        abort.abort(err);
        if (method !== 'initialize') this.notify('notifications/cancelled', { requestId: id, reason });
      };
      this.#pending.set(id, call);
      if (options.signal?.aborted) return onAbort();
      options.signal?.addEventListener('abort', onAbort, { once: true });
      const req: JsonRpcRequest = params === undefined ? { jsonrpc: '2.0', id, method } : { jsonrpc: '2.0', id, method, params };
      this.#conn.send(req, { signal: abort.signal, timeoutMs }).then(
        () => {
          if (this.#conn.attributesMessages) call.reject(protocolError(this.serverSlug, 'the answer stream ended without a response'));
        },
        (err: Error) => call.reject(err)
      );
    });
  }

  #settle(response: JsonRpcResponse): void {
    const call = response.id === null ? undefined : this.#pending.get(response.id);
    if (!call) return;
    if ('error' in response) call.reject(new JsonRpcError(response.error.code, response.error.message, response.error.data));
    else call.resolve(response.result ?? {});
  }

  async #answer(req: JsonRpcRequest, call: PendingCall | undefined): Promise<void> {
    let reply: JsonRpcResponse;
    const handler = call?.options.onRequest ?? [...this.#listeners].find((l) => l.onRequest)?.onRequest;
    if (req.method === 'ping') reply = successResponse(req.id, {});
    else if (!handler) reply = errorResponse(req.id, ErrorCode.MethodNotFound, `No client is connected to answer ${req.method}.`);
    else {
      try {
        reply = successResponse(req.id, await handler(req.method, req.params));
      } catch (err) {
        reply = err instanceof JsonRpcError ? { jsonrpc: '2.0', id: req.id, error: err.toObject() }
          : errorResponse(req.id, ErrorCode.InternalError, (err as Error).message);
      }
    }
    await this.#conn.send(reply, { timeoutMs: this.opts.timeoutMs })
      .catch((err) => this.opts.log.debug({ err, method: req.method }, 'answer to remote server failed'));
  }

  #sessionLost(generation: number): void {
    if (generation !== this.#generation || this.#status !== 'online') return;
    this.opts.log.info({ server: this.serverSlug }, 'remote MCP session expired; re-initializing');
    // The next ensureReady re-initializes at once (no retry delay: the server answered).
    this.#lastError = undefined;
    this.#setStatus('restarting');
  }

  #noteFailure(err: unknown): unknown {
    if (err instanceof TransportError && !this.#closed && this.#status !== 'stopped') {
      this.#lastError = err;
      this.#lastAttempt = Date.now();
      this.#setStatus(err instanceof ReauthRequiredError ? 'requires_reauth' : 'error');
      this.#scheduleRecovery();
    }
    return err;
  }

  // A failed server is retried in the background (1 s doubling to 30 s), so it comes back online
  // (and clients hear list_changed) without waiting for someone to call it.
  #scheduleRecovery(): void {
    if (this.#closed || this.#recovery || this.#status !== 'error') return;
    const delay = Math.min(RETRY_AFTER_MS * 2 ** this.#recoveryAttempts, MAX_RECOVERY_DELAY_MS);
    this.#recovery = setTimeout(() => {
      this.#recovery = undefined;
      if (this.#closed || this.#status !== 'error') return;
      this.#recoveryAttempts++;
      this.ensureReady().then(() => (this.#recoveryAttempts = 0), () => this.#scheduleRecovery());
    }, delay);
    this.#recovery.unref();
  }

  #cancelRecovery(): void {
    clearTimeout(this.#recovery);
    this.#recovery = undefined;
    this.#recoveryAttempts = 0;
  }

  #rejectAll(err: Error): void {
    for (const call of [...this.#pending.values()]) call.reject(err);
  }

  #setStatus(status: ServerStatus): void {
    if (this.#status === status) return;
    const previous = this.#status;
    this.#status = status;
    const message = status === 'error' || status === 'requires_reauth' ? this.#lastError?.message : undefined;
    this.opts.events?.emit('status_changed', { ...this.#ref, status, previous, ...(message ? { message } : {}) });
    for (const l of this.#listeners) l.onStatus?.(status);
  }
}
