import type { ServerResponse } from 'node:http';
import { ErrorCode, JsonRpcError, type JsonObject, type JsonRpcId, type JsonRpcMessage, type JsonRpcResponse } from '../mcp/jsonrpc';
import { LATEST_PROTOCOL_VERSION } from '../mcp/protocol';
import type { ClientIdentity, McpSessionHandler, SessionOutbound, SessionTarget } from '../mcp/session-contract';
import { EventLog } from './event-log';
import { SseStream } from './sse-stream';

/** The first revision whose clients accept SSE events with empty data (priming events). */
const PRIMING_SINCE = '2025-11-25';

export type TransportKind = 'streamable-http' | 'sse';

/** Where the messages of one client request go: its POST stream, or the legacy SSE stream. */
export interface Exchange {
  /** A notification or server→client request related to the request being served. */
  related(msg: JsonRpcMessage): void;
  /** The response; undefined when the request was cancelled and gets none. */
  respond(res: JsonRpcResponse | undefined): void;
}

interface PendingClientRequest {
  resolve(result: JsonObject): void;
  reject(err: JsonRpcError): void;
}

export interface SessionOptions {
  id: string;
  identity: ClientIdentity;
  target: SessionTarget;
  transport: TransportKind;
  /** Events kept for Last-Event-ID replay (0: no resumability, as for legacy SSE). */
  replayEvents: number;
  /** How long a server→client request waits for the client's answer. */
  clientRequestTimeoutMs: number;
  /** Where the client connected from (events and audit only; never used for decisions). */
  origin?: ClientOrigin;
  /** First replay-log sequence number (a restored session starts above its previous run's ids). */
  firstEventSeq?: number;
}

export interface ClientOrigin {
  userAgent?: string;
  ipAddress?: string;
}

export function targetKey(t: SessionTarget): string {
  return t.kind === 'team' ? `team:${t.teamId}` : `server:${t.teamId}/${t.serverSlug}`;
}

/** One MCP client session: its handler, in-flight requests, streams and replay log. */
export class McpSession {
  readonly id: string;
  readonly identity: ClientIdentity;
  readonly target: SessionTarget;
  readonly transport: TransportKind;
  readonly createdAt = Date.now();
  lastActivity = this.createdAt;
  protocolVersion = LATEST_PROTOCOL_VERSION;
  clientCapabilities: JsonObject = {};
  /** clientInfo of initialize, once known. */
  clientInfo: JsonObject | undefined;
  readonly origin: ClientOrigin;
  requestCount = 0;
  toolCallCount = 0;
  initializeDone = false;
  initialized = false;
  closed = false;
  handler: McpSessionHandler | undefined;
  /** Client requests being served, by their (type-preserving) id. */
  readonly inflight = new Map<JsonRpcId, AbortController>();
  /** The GET stream (Streamable HTTP) or the whole legacy SSE stream. */
  readonly standalone: SseStream;
  /** Request streams (POST SSE responses) still open, for resumption. */
  readonly streams = new Map<number, SseStream>();
  readonly log: EventLog | undefined;
  readonly outbound: SessionOutbound;
  /** Legacy SSE: every response and related message goes on the one stream. */
  readonly standaloneExchange: Exchange;
  readonly #pending = new Map<JsonRpcId, PendingClientRequest>();
  readonly #clientRequestTimeoutMs: number;
  #nextClientRequestId = 0;
  #nextStreamNo = 1;

  constructor(o: SessionOptions) {
    this.id = o.id;
    this.identity = o.identity;
    this.target = o.target;
    this.transport = o.transport;
    this.origin = o.origin ?? {};
    this.#clientRequestTimeoutMs = o.clientRequestTimeoutMs;
    this.log = o.replayEvents > 0 ? new EventLog(o.replayEvents, undefined, o.firstEventSeq) : undefined;
    this.standalone = new SseStream(0, this.log);
    const standalone = this.standalone;
    this.standaloneExchange = {
      related: (msg) => standalone.write(msg),
      respond: (res) => {
        if (res !== undefined) standalone.write(res);
      }
    };
    this.outbound = {
      sendNotification: (n) => standalone.write(n),
      sendRequest: (method, params, signal) => {
        if (!standalone.connected) return Promise.reject(new JsonRpcError(ErrorCode.InternalError, 'The client has no open stream for server requests'));
        return this.requestClient(method, params, (m) => standalone.write(m), signal);
      }
    };
  }

  touch(now = Date.now()): void {
    this.lastActivity = now;
  }

  /** True while a connection is open on any of the session's streams. */
  get hasOpenStream(): boolean {
    if (this.standalone.connected) return true;
    for (const s of this.streams.values()) if (s.connected) return true;
    return false;
  }

  openRequestStream(res: ServerResponse): SseStream {
    const s = new SseStream(this.#nextStreamNo++, this.log);
    this.streams.set(s.streamNo, s);
    s.attach(res);
    this.primeStream(s);
    return s;
  }

  /** Priming events carry empty data, which clients before 2025-11-25 may fail to parse: only for sessions that negotiated it. */
  primeStream(s: SseStream): void {
    if (this.protocolVersion >= PRIMING_SINCE) s.prime();
  }

  endRequestStream(s: SseStream): void {
    s.end();
    this.streams.delete(s.streamNo);
  }

  /** A server→client request written with `write`; resolves with the client's result. */
  requestClient(method: string, params: JsonObject | undefined, write: (m: JsonRpcMessage) => void, signal?: AbortSignal): Promise<JsonObject> {
    if (this.closed) return Promise.reject(new JsonRpcError(ErrorCode.ConnectionClosed, 'Session closed'));
    if (signal?.aborted) return Promise.reject(new JsonRpcError(ErrorCode.RequestTimeout, 'Request cancelled'));
    const id = `s${++this.#nextClientRequestId}`;
    return new Promise<JsonObject>((resolve, reject) => {
      const done = (): void => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        this.#pending.delete(id);
      };
      const onAbort = (): void => {
        done();
        reject(new JsonRpcError(ErrorCode.RequestTimeout, 'Request cancelled'));
      };
      const timer = setTimeout(() => {
        done();
        reject(new JsonRpcError(ErrorCode.RequestTimeout, `The client did not answer ${method} in time`));
      }, this.#clientRequestTimeoutMs);
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#pending.set(id, {
        resolve: (r) => { done(); resolve(r); },
        reject: (e) => { done(); reject(e); }
      });
      write(params === undefined ? { jsonrpc: '2.0', id, method } : { jsonrpc: '2.0', id, method, params });
    });
  }

  /** A client's answer to a server→client request; false when nothing waits for that id. */
  acceptResponse(msg: JsonRpcResponse): boolean {
    const p = msg.id === null ? undefined : this.#pending.get(msg.id);
    if (p === undefined) return false;
    if ('error' in msg) p.reject(new JsonRpcError(msg.error.code, msg.error.message, msg.error.data));
    else p.resolve(msg.result);
    return true;
  }

  cancel(requestId: unknown): void {
    if (typeof requestId !== 'string' && typeof requestId !== 'number') return;
    this.inflight.get(requestId)?.abort();
  }

  /** Ends everything of the session: requests, streams, handler. Idempotent. */
  close(reason: string): void {
    if (this.closed) return;
    this.closed = true;
    // Requests still running get this as their answer where it can still be delivered.
    const ended = new JsonRpcError(ErrorCode.ConnectionClosed, `Session closed: ${reason}`);
    for (const ac of this.inflight.values()) ac.abort(ended);
    this.inflight.clear();
    for (const p of [...this.#pending.values()]) p.reject(new JsonRpcError(ErrorCode.ConnectionClosed, `Session closed: ${reason}`));
    for (const s of this.streams.values()) s.end();
    this.streams.clear();
    this.standalone.end();
    try {
      this.handler?.close(reason);
    } catch {
      // a failing handler must not keep the session alive
    }
  }
}
