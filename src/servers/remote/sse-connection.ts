// Legacy HTTP+SSE (2024-11-05): a GET event stream whose first `endpoint` event names the URL to
// POST messages to; every answer comes back on that one stream.
import type { JsonRpcMessage } from '../../mcp/jsonrpc';
import type { ConnectionEvents, RemoteConnection } from './connection';
import { httpStatusError, protocolError, SessionExpiredError, unreachableError } from './errors';
import { contentType, readText, type HttpEndpoint } from './http-endpoint';
import { readEventStream } from './messages';

export class LegacySseConnection implements RemoteConnection {
  readonly kind = 'sse';
  readonly attributesMessages = false;
  #endpoint: URL | undefined;
  #stream: AbortController | undefined;

  constructor(private readonly slug: string, private readonly http: HttpEndpoint, private readonly events: ConnectionEvents) {}

  async open(signal: AbortSignal): Promise<void> {
    this.#stream?.abort();
    this.#endpoint = undefined;
    const stream = new AbortController();
    this.#stream = stream;
    const onAbort = (): void => stream.abort();
    signal.addEventListener('abort', onAbort, { once: true });
    let res;
    try {
      res = await this.http.request({ method: 'GET', headers: { accept: 'text/event-stream' }, signal: stream.signal, stream: true });
    } catch (err) {
      throw signal.aborted ? signal.reason : unreachableError(this.slug, err);
    } finally {
      signal.removeEventListener('abort', onAbort);
    }
    if (res.statusCode !== 200) throw httpStatusError(this.slug, res.statusCode, await readText(res.body, 64 * 1024).catch(() => ''));
    if (contentType(res.headers) !== 'text/event-stream') {
      res.body.resume();
      throw protocolError(this.slug, 'the SSE endpoint did not answer with an event stream');
    }
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      await this.#awaitEndpoint(res.body, stream);
    } finally {
      signal.removeEventListener('abort', onAbort);
    }
  }

  #awaitEndpoint(body: Parameters<typeof readEventStream>[0], stream: AbortController): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const onEvent = (event: string, data: string): void => {
        if (event !== 'endpoint' || this.#endpoint) return;
        let url: URL;
        try {
          url = new URL(data.trim(), this.http.url);
        } catch {
          return reject(protocolError(this.slug, 'the endpoint event is not a URL'));
        }
        // Credentials go to the configured origin only.
        if (!this.http.sameOrigin(url)) return reject(protocolError(this.slug, 'the endpoint event names another origin'));
        // The configured query parameters (often an API key) go with the POSTs too.
        for (const [k, v] of this.http.url.searchParams) if (!url.searchParams.has(k)) url.searchParams.set(k, v);
        this.#endpoint = url;
        resolve();
      };
      const lost = (): void => {
        if (this.#stream !== stream || stream.signal.aborted) return reject(unreachableError(this.slug, new Error('no endpoint event in time')));
        this.#endpoint = undefined;
        const err = unreachableError(this.slug, new Error('event stream closed'));
        reject(err);
        this.events.onLost(err);
      };
      readEventStream(body, (m) => this.events.onMessage(m), { signal: stream.signal, onEvent }).then(lost, lost);
    });
  }

  ready(): void {
    // the stream opened by open() is the only one
  }

  async send(message: JsonRpcMessage, options: { signal?: AbortSignal; timeoutMs?: number }): Promise<void> {
    const url = this.#endpoint;
    if (!url) throw new SessionExpiredError();
    let res;
    try {
      res = await this.http.request({
        method: 'POST', url, headers: { 'content-type': 'application/json' }, body: JSON.stringify(message),
        signal: options.signal, headersTimeoutMs: options.timeoutMs
      });
    } catch (err) {
      if (options.signal?.aborted) throw options.signal.reason;
      throw unreachableError(this.slug, err);
    }
    const text = await readText(res.body, 64 * 1024).catch(() => '');
    if (res.statusCode === 404) throw new SessionExpiredError();
    if (res.statusCode < 200 || res.statusCode >= 300) throw httpStatusError(this.slug, res.statusCode, text);
  }

  async close(): Promise<void> {
    const s = this.#stream;
    this.#stream = undefined;
    this.#endpoint = undefined;
    s?.abort();
  }
}
