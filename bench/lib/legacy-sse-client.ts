// An MCP client session over the legacy HTTP+SSE transport: GET /sse opens the stream, its first
// `endpoint` event names where to POST; answers come back on the stream and are matched by id.
import { Client, type Agent } from 'undici';
import { SseParser } from './sse';
import { CLIENT_PROTOCOL_VERSION, deadline, initializeParams, initializeResult, type JsonObject, type McpClient, type RpcExchange } from './client';

interface Pending {
  resolve(m: JsonObject): void;
  reject(e: Error): void;
}

export class LegacySseClient implements McpClient {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private endpoint: URL | undefined;
  /** The GET stream has a connection of its own, so that close() really closes it. */
  private streamClient: Client | undefined;
  private closed = false;
  /** Answers whose id matched nothing we sent: a cross-delivered answer lands here. */
  strays = 0;
  protocolVersion = CLIENT_PROTOCOL_VERSION;

  private constructor(private readonly agent: Agent, private readonly timeoutMs: number) {}

  static async connect(agent: Agent, sseUrl: string, timeoutMs = 10_000): Promise<LegacySseClient> {
    const c = new LegacySseClient(agent, timeoutMs);
    await deadline(c.open(new URL(sseUrl)), timeoutMs, `GET ${sseUrl}`);
    const result = initializeResult(await c.request('initialize', initializeParams()));
    if (typeof result.protocolVersion === 'string') c.protocolVersion = result.protocolVersion;
    await c.post({ jsonrpc: '2.0', method: 'notifications/initialized' });
    return c;
  }

  private async open(url: URL): Promise<void> {
    this.streamClient = new Client(url.origin, { headersTimeout: this.timeoutMs, bodyTimeout: 0 });
    const res = await this.streamClient.request({ path: url.pathname + url.search, method: 'GET', headers: { accept: 'text/event-stream' } });
    if (res.statusCode !== 200) {
      const text = await res.body.text();
      throw new Error(`GET ${url.pathname}: HTTP ${res.statusCode} ${text.slice(0, 200)}`);
    }
    let gotEndpoint!: () => void;
    const endpointSeen = new Promise<void>((resolve) => (gotEndpoint = resolve));
    const parser = new SseParser((e) => {
      if (e.event === 'endpoint') {
        this.endpoint = new URL(e.data, url);
        gotEndpoint();
      } else if (e.event === 'message') {
        this.onMessage(JSON.parse(e.data) as JsonObject);
      }
    });
    const decoder = new TextDecoder();
    void (async () => {
      try {
        for await (const chunk of res.body) parser.push(decoder.decode(chunk as Buffer, { stream: true }));
      } catch {
        // Destroyed by close() or dropped by the server: pending calls are failed below.
      }
      this.failAll(new Error('SSE stream closed'));
    })();
    await endpointSeen;
  }

  private onMessage(msg: JsonObject): void {
    if (!('result' in msg || 'error' in msg)) return;
    const p = typeof msg.id === 'number' ? this.pending.get(msg.id) : undefined;
    if (!p) {
      this.strays++;
      return;
    }
    this.pending.delete(msg.id as number);
    p.resolve(msg);
  }

  private failAll(err: Error): void {
    this.closed = true;
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
  }

  private async post(msg: JsonObject): Promise<void> {
    if (!this.endpoint) throw new Error('no endpoint');
    const res = await this.agent.request({
      origin: this.endpoint.origin, path: this.endpoint.pathname + this.endpoint.search, method: 'POST',
      headers: { 'content-type': 'application/json' }, body: JSON.stringify(msg),
      headersTimeout: this.timeoutMs, bodyTimeout: this.timeoutMs
    });
    const text = await res.body.text();
    if (res.statusCode >= 300) throw new Error(`POST ${String(msg.method)}: HTTP ${res.statusCode} ${text.slice(0, 200)}`);
  }

  async request(method: string, params?: JsonObject): Promise<RpcExchange> {
    if (this.closed) throw new Error('SSE stream closed');
    const id = this.nextId++;
    const answer = new Promise<JsonObject>((resolve, reject) => this.pending.set(id, { resolve, reject }));
    try {
      await this.post({ jsonrpc: '2.0', id, method, params });
      return { id, response: await deadline(answer, this.timeoutMs, `${method} #${id}`) };
    } finally {
      this.pending.delete(id);
    }
  }

  async close(): Promise<void> {
    this.failAll(new Error('client closed'));
    await this.streamClient?.destroy();
  }
}
