import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedCall {
  authorization?: string;
  contentType?: string;
  body: string;
  token?: string;
}

/**
 * A real HTTP introspection endpoint for tests: answers from `claims` (per token; unknown tokens are
 * inactive), records every call, and can be told to fail or to hold answers until released.
 */
export class IntrospectionServer {
  readonly claims = new Map<string, Record<string, unknown>>();
  readonly calls: RecordedCall[] = [];
  status = 200;
  /** When set, answers wait for release(). */
  held: Array<() => void> | undefined;
  #server: Server | undefined;
  url = '';

  constructor(private readonly path = '/introspect', private readonly json = false) {}

  async start(): Promise<string> {
    this.#server = createServer((req, res) => {
      void this.#answer(req).then(([status, body]) => {
        res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
      });
    });
    await new Promise<void>((r) => this.#server!.listen(0, '127.0.0.1', r));
    const { port } = this.#server.address() as AddressInfo;
    this.url = `http://127.0.0.1:${port}${this.path}`;
    return this.url;
  }

  async #answer(req: IncomingMessage): Promise<[number, unknown]> {
    let body = '';
    for await (const chunk of req) body += String(chunk);
    if (req.url !== this.path) return [404, { error: 'not_found' }];
    const token = this.json ? (JSON.parse(body) as { token?: string }).token : new URLSearchParams(body).get('token') ?? undefined;
    this.calls.push({ authorization: req.headers.authorization, contentType: req.headers['content-type'], body, token });
    if (this.held) await new Promise<void>((r) => this.held!.push(r));
    if (this.status !== 200) return [this.status, { error: 'server_error' }];
    const claims = token === undefined ? undefined : this.claims.get(token);
    return [200, claims ? { active: true, ...claims } : { active: false }];
  }

  hold(): void {
    this.held = [];
  }

  release(): void {
    const waiting = this.held ?? [];
    this.held = undefined;
    for (const r of waiting) r();
  }

  async stop(): Promise<void> {
    this.release();
    await new Promise<void>((r) => (this.#server ? this.#server.close(() => r()) : r()));
  }
}

/** Waits (bounded) until `check` holds. */
export async function until(check: () => boolean, timeoutMs = 3000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}
