// An MCP client session over Streamable HTTP (POST JSON-RPC, answer as JSON or as an SSE stream),
// on a shared undici Agent so that C clients hold C keep-alive connections.
import type { Agent } from 'undici';
import { SseParser } from './sse';
import { CLIENT_PROTOCOL_VERSION, initializeParams, initializeResult, type JsonObject, type McpClient, type RpcExchange } from './client';

export class StreamableClient implements McpClient {
  private nextId = 1;
  private sessionId: string | undefined;
  protocolVersion = CLIENT_PROTOCOL_VERSION;

  private constructor(private readonly agent: Agent, private readonly url: URL, private readonly timeoutMs: number) {}

  /** initialize + notifications/initialized; the session header comes from the initialize answer. */
  static async connect(agent: Agent, url: string, timeoutMs = 10_000): Promise<StreamableClient> {
    const c = new StreamableClient(agent, new URL(url), timeoutMs);
    const init = await c.request('initialize', initializeParams());
    const result = initializeResult(init);
    if (typeof result.protocolVersion === 'string') c.protocolVersion = result.protocolVersion;
    await c.notify('notifications/initialized');
    return c;
  }

  private headers(): Record<string, string> {
    const h: Record<string, string> = {
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      'mcp-protocol-version': this.protocolVersion
    };
    if (this.sessionId) h['mcp-session-id'] = this.sessionId;
    return h;
  }

  async notify(method: string, params?: JsonObject): Promise<void> {
    const res = await this.agent.request({
      origin: this.url.origin, path: this.url.pathname + this.url.search, method: 'POST',
      headers: this.headers(), body: JSON.stringify({ jsonrpc: '2.0', method, params }),
      headersTimeout: this.timeoutMs, bodyTimeout: this.timeoutMs
    });
    const text = await res.body.text();
    if (res.statusCode >= 300) throw new Error(`${method}: HTTP ${res.statusCode} ${text.slice(0, 200)}`);
  }

  async request(method: string, params?: JsonObject): Promise<RpcExchange> {
    const id = this.nextId++;
    const res = await this.agent.request({
      origin: this.url.origin, path: this.url.pathname + this.url.search, method: 'POST',
      headers: this.headers(), body: JSON.stringify({ jsonrpc: '2.0', id, method, params }),
      headersTimeout: this.timeoutMs, bodyTimeout: this.timeoutMs
    });
    const sid = res.headers['mcp-session-id'];
    if (typeof sid === 'string' && !this.sessionId) this.sessionId = sid;
    const type = String(res.headers['content-type'] ?? '');
    if (res.statusCode >= 300) {
      const text = await res.body.text();
      throw new Error(`${method}: HTTP ${res.statusCode} ${text.slice(0, 200)}`);
    }
    if (type.startsWith('text/event-stream')) return { id, response: await readSseAnswer(res.body, id, method) };
    const body = (await res.body.json()) as JsonObject;
    return { id, response: body };
  }

  async close(): Promise<void> {
    if (!this.sessionId) return;
    try {
      const res = await this.agent.request({
        origin: this.url.origin, path: this.url.pathname + this.url.search, method: 'DELETE',
        headers: this.headers(), headersTimeout: this.timeoutMs, bodyTimeout: this.timeoutMs
      });
      await res.body.dump();
    } catch {
      // A server that cannot end sessions explicitly (405) or is already gone: nothing to undo.
    }
  }
}

/**
 * Reads an SSE answer to the end and returns the first JSON-RPC response in it. Whatever response
 * comes first is returned even when its id is not ours: the caller decides it is wrong.
 */
async function readSseAnswer(body: AsyncIterable<Buffer>, id: number, method: string): Promise<JsonObject> {
  let answer: JsonObject | undefined;
  const decoder = new TextDecoder();
  const parser = new SseParser((e) => {
    // Priming events (2025-11-25) carry an id and empty data.
    if (answer || e.event !== 'message' || e.data === '') return;
    const msg = JSON.parse(e.data) as JsonObject;
    if ('result' in msg || 'error' in msg) answer = msg;
  });
  for await (const chunk of body) parser.push(decoder.decode(chunk, { stream: true }));
  if (!answer) throw new Error(`${method} #${id}: SSE stream ended without a response`);
  return answer;
}
