// JSON-RPC towards one child process shared by many client sessions: fresh upstream ids, progress
// tokens mapped both ways, server→client requests and logs attributed to the call that caused them.
import type { Logger } from 'pino';
import {
  ErrorCode,
  JsonRpcError,
  classifyMessage,
  errorResponse,
  isValidId,
  successResponse,
  type JsonObject,
  type JsonRpcId,
  type JsonRpcMessage,
  type JsonRpcNotification,
  type JsonRpcRequest,
  type JsonRpcResponse
} from '../../mcp/jsonrpc';
import { CallDeadline } from '../call-deadline';
import type { UpstreamCallOptions, UpstreamListener } from '../upstream';

/** LSP's code for a request the caller cancelled; the client never sees it (spec: no response after cancel). */
export const REQUEST_CANCELLED = -32800;

type ProgressToken = string | number;

interface PendingCall {
  id: number;
  method: string;
  options: UpstreamCallOptions;
  resolve(result: JsonObject): void;
  reject(err: JsonRpcError): void;
  cleanup(): void;
  /** Server→client requests attributed to this call so far. */
  serverRequests: number;
  progress?: { upstream: string; original: ProgressToken };
  deadline?: CallDeadline;
}

export interface RpcChannelDeps {
  /** Writes one message to the child; throws when it cannot (queue full, stdin closed). */
  write(msg: JsonRpcMessage): void;
  listeners(): Iterable<UpstreamListener>;
  log: Logger;
  defaultTimeoutMs: number;
  /** Upper bound progress may push a call's deadline to (MCP_REQUEST_MAX_TIMEOUT_MS). */
  maxTimeoutMs?: number;
}

export class RpcChannel {
  #nextId = 1;
  #nextToken = 1;
  #pending = new Map<number, PendingCall>();
  #progress = new Map<string, PendingCall>();
  /** Requests of the child being answered by a client, by the child's id: aborted when it cancels them. */
  #serving = new Map<JsonRpcId, AbortController>();
  #closed: JsonRpcError | undefined;

  constructor(private readonly deps: RpcChannelDeps) {}

  get inFlight(): number {
    return this.#pending.size;
  }

  request(method: string, params: JsonObject | undefined, options: UpstreamCallOptions = {}): Promise<JsonObject> {
    if (this.#closed) return Promise.reject(this.#closed);
    if (options.signal?.aborted) return Promise.reject(new JsonRpcError(REQUEST_CANCELLED, 'Request cancelled'));
    const id = this.#nextId++;
    return new Promise<JsonObject>((resolve, reject) => {
      const call: PendingCall = { id, method, options, resolve, reject, cleanup: () => {}, serverRequests: 0 };
      let outParams = params;
      const meta = params?._meta as JsonObject | undefined;
      const token = meta?.progressToken;
      if (typeof token === 'string' || typeof token === 'number') {
        // Tokens are unique per client only; the child must see one that is unique across all of them.
        const upstream = `sat-${this.#nextToken++}`;
        call.progress = { upstream, original: token };
        outParams = { ...params, _meta: { ...meta, progressToken: upstream } };
        this.#progress.set(upstream, call);
      }
      const timeoutMs = options.timeoutMs ?? this.deps.defaultTimeoutMs;
      const deadline = new CallDeadline(timeoutMs, options.maxTimeoutMs ?? this.deps.maxTimeoutMs, () => {
        this.#cancelUpstream(call, 'Request timed out');
        this.#settle(call);
        reject(new JsonRpcError(ErrorCode.RequestTimeout, 'Request timed out', { timeout: timeoutMs }));
      });
      call.deadline = deadline;
      const onAbort = (): void => {
        this.#cancelUpstream(call, String(options.signal?.reason ?? 'cancelled by the client'));
        this.#settle(call);
        reject(new JsonRpcError(REQUEST_CANCELLED, 'Request cancelled'));
      };
      options.signal?.addEventListener('abort', onAbort, { once: true });
      call.cleanup = () => {
        deadline.clear();
        options.signal?.removeEventListener('abort', onAbort);
      };
      this.#pending.set(id, call);
      try {
        this.deps.write({ jsonrpc: '2.0', id, method, ...(outParams === undefined ? {} : { params: outParams }) });
      } catch (err) {
        this.#settle(call);
        reject(new JsonRpcError(ErrorCode.ConnectionClosed, `Cannot send ${method}: ${(err as Error).message}`));
      }
    });
  }

  notify(method: string, params?: JsonObject): void {
    if (this.#closed) return;
    this.deps.write({ jsonrpc: '2.0', method, ...(params === undefined ? {} : { params }) });
  }

  /** Every call still in flight fails at once with `err`; later requests too. */
  close(err: JsonRpcError): void {
    if (this.#closed) return;
    this.#closed = err;
    for (const call of [...this.#pending.values()]) {
      this.#settle(call);
      call.reject(err);
    }
    for (const ac of this.#serving.values()) ac.abort(err.message);
    this.#serving.clear();
  }

  /** One parsed line from the child's stdout; returns false when it is not JSON-RPC at all. */
  handle(msg: unknown): boolean {
    switch (classifyMessage(msg)) {
      case 'response':
        this.#onResponse(msg as JsonRpcResponse);
        return true;
      case 'request':
        this.#onRequest(msg as JsonRpcRequest);
        return true;
      case 'notification':
        this.#onNotification(msg as JsonRpcNotification);
        return true;
      default:
        return false;
    }
  }

  #settle(call: PendingCall): void {
    call.cleanup();
    this.#pending.delete(call.id);
    if (call.progress) this.#progress.delete(call.progress.upstream);
  }

  #cancelUpstream(call: PendingCall, reason: string): void {
    try {
      this.notify('notifications/cancelled', { requestId: call.id, reason });
    } catch {
      // The child is gone or not reading: nothing left to cancel.
    }
  }

  #onResponse(res: JsonRpcResponse): void {
    const id = typeof res.id === 'string' && /^\d+$/.test(res.id) ? Number(res.id) : res.id;
    const call = typeof id === 'number' ? this.#pending.get(id) : undefined;
    if (!call) {
      this.deps.log.debug({ id: res.id }, 'response for no pending request (late, cancelled or unknown)');
      return;
    }
    this.#settle(call);
    if ('error' in res) call.reject(new JsonRpcError(res.error.code, res.error.message, res.error.data));
    else call.resolve(res.result);
  }

  /** The call a log line without correlation belongs to: the only call in flight, else the newest that can take it. */
  #attribute(can: (o: UpstreamCallOptions) => boolean): PendingCall | undefined {
    let found: PendingCall | undefined;
    for (const call of this.#pending.values()) if (can(call.options)) found = call;
    return found;
  }

  /**
   * The call a server→client request belongs to (stdio carries no correlation). One candidate: that one.
   * Several: the oldest that has not asked anything yet (servers ask early, in the order calls arrive),
   * else the newest. A guess under concurrency, exact otherwise.
   */
  #attributeRequest(method: string): PendingCall | undefined {
    let oldestFresh: PendingCall | undefined;
    let newest: PendingCall | undefined;
    let candidates = 0;
    for (const call of this.#pending.values()) {
      if (!call.options.onRequest) continue;
      candidates++;
      if (!oldestFresh && call.serverRequests === 0) oldestFresh = call;
      newest = call;
    }
    if (candidates > 1 && method !== 'ping') {
      this.deps.log.warn({ method, calls_in_flight: candidates }, 'server→client request while several calls share this process: it may reach the wrong client session (set "session_affinity": "per_session" on this server)');
    }
    const chosen = oldestFresh ?? newest;
    if (chosen) chosen.serverRequests++;
    return chosen;
  }

  #onRequest(req: JsonRpcRequest): void {
    if (req.method === 'ping') {
      this.#reply(successResponse(req.id, {}));
      return;
    }
    const call = this.#attributeRequest(req.method);
    let handler = call?.options.onRequest;
    if (!handler) for (const l of this.deps.listeners()) if (l.onRequest) { handler = l.onRequest.bind(l); break; }
    if (!handler) {
      this.#reply(errorResponse(req.id, ErrorCode.MethodNotFound, `No client can answer ${req.method} right now`));
      return;
    }
    const answer = handler;
    const ac = new AbortController();
    this.#serving.set(req.id, ac);
    Promise.resolve().then(() => answer(req.method, req.params, ac.signal)).then(
      (result) => this.#replyUnlessCancelled(ac, req.id, successResponse(req.id, result)),
      (err: unknown) => {
        const e = err instanceof JsonRpcError ? err : new JsonRpcError(ErrorCode.InternalError, err instanceof Error ? err.message : String(err));
        this.#replyUnlessCancelled(ac, req.id, errorResponse(req.id, e.code, e.message, e.data));
      }
    );
  }

  #replyUnlessCancelled(ac: AbortController, id: JsonRpcId, res: JsonRpcResponse): void {
    if (this.#serving.get(id) === ac) this.#serving.delete(id);
    // The child cancelled its request (or is gone): it must not get an answer.
    if (!ac.signal.aborted) this.#reply(res);
  }

  #reply(res: JsonRpcResponse): void {
    try {
      this.deps.write(res);
    } catch (err) {
      this.deps.log.debug({ id: res.id as JsonRpcId, err }, 'could not answer a server request');
    }
  }

  #onNotification(n: JsonRpcNotification): void {
    if (n.method === 'notifications/progress') {
      const token = n.params?.progressToken;
      const call = typeof token === 'string' ? this.#progress.get(token) : undefined;
      if (call?.progress) {
        call.deadline?.extend();
        call.options.onNotification?.({ ...n, params: { ...n.params, progressToken: call.progress.original } });
      }
      else this.deps.log.debug({ token }, 'progress for no active request dropped');
      return;
    }
    if (n.method === 'notifications/cancelled') {
      // The child gave up on one of its own requests: tell whoever is answering it, and send no answer.
      const id = n.params?.requestId;
      const ac = isValidId(id) ? this.#serving.get(id) : undefined;
      if (ac && isValidId(id)) {
        this.#serving.delete(id);
        ac.abort(typeof n.params?.reason === 'string' ? n.params.reason : 'cancelled by the server');
      }
      return;
    }
    if (n.method === 'notifications/message') {
      const call = this.#attribute((o) => o.onNotification !== undefined);
      if (call) {
        call.options.onNotification!(n);
        return;
      }
    }
    for (const l of this.deps.listeners()) l.onNotification?.(n);
  }
}
