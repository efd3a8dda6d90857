// Streamable HTTP (2025-03-26 and later): POST per message, JSON or SSE answers, Mcp-Session-Id,
// MCP-Protocol-Version, optional GET stream for server-initiated messages, DELETE on close.
import type { JsonRpcId, JsonRpcMessage } from '../../mcp/jsonrpc';
import type { ConnectionEvents, RemoteConnection } from './connection';
import { httpStatusError, protocolError, SessionExpiredError, unreachableError } from './errors';
import { contentType, headerValue, readText, type HttpEndpoint } from './http-endpoint';
import { parseMessages, readEventStream } from './messages';

const GET_RETRY_MIN_MS = 500;
const GET_RETRY_MAX_MS = 15_000;
/** How many times one request's answer stream is resumed before giving up. */
const MAX_RESUMES = 5;

export class StreamableConnection implements RemoteConnection {
  readonly kind = 'http';
  readonly attributesMessages = true;
  #sessionId: string | undefined;
  #protocolVersion: string | undefined;
  #getAbort: AbortController | undefined;
  #closed = false;

  constructor(private readonly slug: string, private readonly http: HttpEndpoint, private readonly events: ConnectionEvents) {}

  async open(): Promise<void> {
    this.#closed = false;
    this.#getAbort?.abort();
    this.#sessionId = undefined;
    this.#protocolVersion = undefined;
  }

  ready(protocolVersion: string): void {
    this.#protocolVersion = protocolVersion;
    if (this.#sessionId !== undefined) void this.#runGetStream();
  }

  #headers(extra: Record<string, string>): Record<string, string> {
    const h: Record<string, string> = { ...extra };
    if (this.#sessionId !== undefined) h['mcp-session-id'] = this.#sessionId;
    if (this.#protocolVersion !== undefined) h['mcp-protocol-version'] = this.#protocolVersion;
    return h;
  }

  async send(message: JsonRpcMessage, options: { signal?: AbortSignal; timeoutMs?: number }): Promise<void> {
    const hadSession = this.#sessionId !== undefined;
    let res;
    try {
      res = await this.http.request({
        method: 'POST',
        headers: this.#headers({ 'content-type': 'application/json', accept: 'application/json, text/event-stream' }),
        body: JSON.stringify(message),
        signal: options.signal,
        headersTimeoutMs: options.timeoutMs,
        stream: true
      });
    } catch (err) {
      if (options.signal?.aborted) throw options.signal.reason;
      throw unreachableError(this.slug, err);
    }
    const isInitialize = 'method' in message && message.method === 'initialize';
    if (res.statusCode === 404 && hadSession) {
      res.body.resume();
      throw new SessionExpiredError();
    }
    if (res.statusCode < 200 || res.statusCode >= 300) {
      throw httpStatusError(this.slug, res.statusCode, await readText(res.body, 64 * 1024).catch(() => ''));
    }
    const sid = headerValue(res.headers, 'mcp-session-id');
    if (isInitialize && sid !== undefined) this.#sessionId = sid;
    const relatedId: JsonRpcId | undefined = 'id' in message && 'method' in message ? message.id : undefined;
    const type = contentType(res.headers);
    if (res.statusCode === 202 || relatedId === undefined) {
      res.body.resume();
      return;
    }
    if (type === 'text/event-stream') return this.#readAnswer(res.body, relatedId, options.signal);
    if (type === 'application/json') {
      const text = await readText(res.body);
      const messages = parseMessages(text);
      if (!messages) throw protocolError(this.slug, 'the answer is not JSON-RPC');
      for (const m of messages) this.events.onMessage(m, relatedId);
      return;
    }
    res.body.resume();
    throw protocolError(this.slug, `unexpected content type '${type}' (HTTP ${res.statusCode})`);
  }

  /**
   * Reads a request's event stream up to its response. A server may end the stream early after
   * giving event ids (2025-11-25 polling, or a dropped connection): resume it with Last-Event-ID.
   */
  async #readAnswer(body: Parameters<typeof readEventStream>[0], relatedId: JsonRpcId, signal: AbortSignal | undefined): Promise<void> {
    let answered = false;
    const until = (m: JsonRpcMessage): boolean => (answered ||= !('method' in m) && m.id === relatedId);
    const onMessage = (m: JsonRpcMessage): void => this.events.onMessage(m, relatedId);
    try {
      let parser = await readEventStream(body, onMessage, { signal, until });
      let lastEventId = parser.lastEventId;
      for (let attempt = 0; !answered && lastEventId !== undefined && attempt < MAX_RESUMES; attempt++) {
        await new Promise((r) => setTimeout(r, parser.retryMs ?? GET_RETRY_MIN_MS));
        if (signal?.aborted) break;
        const res = await this.http.request({ method: 'GET', headers: this.#headers({ accept: 'text/event-stream', 'last-event-id': lastEventId }), signal, stream: true });
        if (res.statusCode !== 200 || contentType(res.headers) !== 'text/event-stream') {
          res.body.resume();
          break;
        }
        parser = await readEventStream(res.body, onMessage, { signal, until });
        lastEventId = parser.lastEventId ?? lastEventId;
      }
    } catch (err) {
      if (signal?.aborted) throw signal.reason;
      throw protocolError(this.slug, `its answer stream failed (${(err as Error).message})`);
    }
  }

  // The server's own stream: list_changed, resources/updated, requests outside any call.
  async #runGetStream(): Promise<void> {
    const session = this.#sessionId;
    let delay = GET_RETRY_MIN_MS;
    let lastEventId: string | undefined;
    while (!this.#closed && this.#sessionId === session) {
      const abort = new AbortController();
      this.#getAbort = abort;
      try {
        const headers = this.#headers({ accept: 'text/event-stream' });
        if (lastEventId !== undefined) headers['last-event-id'] = lastEventId;
        let res;
        try {
          res = await this.http.request({ method: 'GET', headers, signal: abort.signal, stream: true });
        } catch (err) {
          if (!abort.signal.aborted && this.#sessionId === session) this.events.onDown(unreachableError(this.slug, err));
          return;
        }
        if (res.statusCode === 404) {
          res.body.resume();
          if (this.#sessionId === session) this.events.onLost(new SessionExpiredError());
          return;
        }
        // 405: the server offers no stream; anything else but an event stream: give up quietly.
        if (res.statusCode !== 200 || contentType(res.headers) !== 'text/event-stream') {
          res.body.resume();
          return;
        }
        delay = GET_RETRY_MIN_MS;
        const parser = await readEventStream(res.body, (m) => this.events.onMessage(m), { signal: abort.signal });
        lastEventId = parser.lastEventId ?? lastEventId;
        if (parser.retryMs !== undefined) delay = Math.max(parser.retryMs, GET_RETRY_MIN_MS);
      } catch {
        if (abort.signal.aborted) return;
        delay = Math.min(delay * 2, GET_RETRY_MAX_MS);
      }
      await new Promise((r) => setTimeout(r, delay).unref());
    }
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#getAbort?.abort();
    const sid = this.#sessionId;
    this.#sessionId = undefined;
    if (sid === undefined) return;
    try {
      const res = await this.http.request({
        method: 'DELETE',
        headers: { 'mcp-session-id': sid, ...(this.#protocolVersion ? { 'mcp-protocol-version': this.#protocolVersion } : {}) },
        signal: AbortSignal.timeout(2000)
      });
      res.body.resume();
    } catch {
      // the server may be gone already; nothing to end then
    }
  }
}
