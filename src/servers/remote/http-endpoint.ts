// One remote server's HTTP side: its own undici Pool (keep-alive), its own headers and query
// parameters. Nothing here is global: the original patched global fetch and leaked one team's
// credentials into every other request (reference §8 item 1).
import { Pool, type Dispatcher } from 'undici';
import type { McpServerConfig } from '../../config/server-config';
import type { EndpointAuth } from './oauth-auth';

export interface HttpCall {
  method: 'GET' | 'POST' | 'DELETE';
  /** Defaults to the server's configured URL (with its query parameters). */
  url?: URL;
  headers?: Record<string, string>;
  body?: string;
  signal?: AbortSignal;
  /** For long-lived event streams: no body timeout. */
  stream?: boolean;
  headersTimeoutMs?: number;
}

export class HttpEndpoint {
  readonly url: URL;
  readonly #pool: Pool;
  readonly #headers: Record<string, string>;

  /** `auth`: a per-user OAuth server's Authorization, added to every request (src/servers/remote/oauth-auth.ts). */
  constructor(config: Pick<McpServerConfig, 'url' | 'url_query_params' | 'headers'>, userAgent: string, private readonly auth?: EndpointAuth) {
    this.url = new URL(config.url ?? '');
    for (const [k, v] of Object.entries(config.url_query_params ?? {})) this.url.searchParams.set(k, v);
    this.#pool = new Pool(this.url.origin, { keepAliveTimeout: 30_000, connect: { timeout: 10_000 } });
    this.#headers = { 'user-agent': userAgent };
    for (const [k, v] of Object.entries(config.headers ?? {})) this.#headers[k.toLowerCase()] = v;
  }

  /** For logs: no query string (it may carry credentials). */
  get safeUrl(): string {
    return `${this.url.origin}${this.url.pathname}`;
  }

  sameOrigin(u: URL): boolean {
    return u.origin === this.url.origin;
  }

  async request(call: HttpCall): Promise<Dispatcher.ResponseData> {
    const url = call.url ?? this.url;
    if (!this.sameOrigin(url)) throw new Error(`refusing to send credentials to another origin (${url.origin})`);
    // Protocol headers win over configured ones; the user's OAuth token wins over both.
    const headers = { ...this.#headers, ...call.headers };
    if (this.auth) headers.authorization = await this.auth.authorization();
    const res = await this.#pool.request({
      method: call.method,
      path: `${url.pathname}${url.search}`,
      headers,
      body: call.body,
      signal: call.signal,
      headersTimeout: call.headersTimeoutMs ?? null,
      bodyTimeout: call.stream ? 0 : null
    });
    if (this.auth && res.statusCode === 401) {
      res.body.resume();
      throw this.auth.rejected();
    }
    return res;
  }

  async close(): Promise<void> {
    await this.#pool.destroy().catch(() => undefined);
  }
}

/** Reads a body to text, bounded so a misbehaving server cannot fill memory with an error page. */
export async function readText(body: Dispatcher.ResponseData['body'], limit = 64 * 1024 * 1024): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += (chunk as Buffer).length;
    if (size > limit) {
      body.destroy();
      throw new Error(`response larger than ${limit} bytes`);
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

export function contentType(headers: Dispatcher.ResponseData['headers']): string {
  const v = headers['content-type'];
  return ((Array.isArray(v) ? v[0] : v) ?? '').split(';')[0]!.trim().toLowerCase();
}

export function headerValue(headers: Dispatcher.ResponseData['headers'], name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
}
