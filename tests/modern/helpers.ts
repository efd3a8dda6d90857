// A 2026-07-28 client over raw fetch (SDK 1.x has none): per-request _meta and the routing headers.
import { ACCEPT_BOTH, readSse, TOKEN_A } from '../transports/helpers';

export const MODERN = '2026-07-28';

export interface ModernCall {
  token?: string;
  capabilities?: object;
  /** Replace or drop (undefined) computed headers. */
  headers?: Record<string, string | undefined>;
  /** `_meta` entries on top of the modern envelope. */
  meta?: Record<string, unknown>;
  id?: number | string;
  signal?: AbortSignal;
}

export interface ModernAnswer {
  status: number;
  headers: Headers;
  /** The JSON-RPC response (last message with the request's id). */
  body: { id?: unknown; result?: Record<string, any>; error?: { code: number; message: string; data?: any } };
  /** Messages before the response when it came as SSE. */
  related: any[];
}

export function modernHeaders(method: string, params: Record<string, unknown>, o: ModernCall = {}): Record<string, string> {
  const h: Record<string, string | undefined> = {
    authorization: `Bearer ${o.token ?? TOKEN_A}`, 'content-type': 'application/json', accept: ACCEPT_BOTH,
    'mcp-protocol-version': MODERN, 'mcp-method': method
  };
  const name = method === 'resources/read' ? params.uri : method === 'tools/call' || method === 'prompts/get' ? params.name : undefined;
  if (typeof name === 'string') h['mcp-name'] = name;
  for (const [k, v] of Object.entries(o.headers ?? {})) h[k.toLowerCase()] = v;
  return Object.fromEntries(Object.entries(h).filter((e): e is [string, string] => e[1] !== undefined));
}

export function modernBody(method: string, params: Record<string, unknown>, o: ModernCall = {}): string {
  const _meta = {
    'io.modelcontextprotocol/protocolVersion': MODERN,
    'io.modelcontextprotocol/clientCapabilities': o.capabilities ?? {},
    'io.modelcontextprotocol/clientInfo': { name: 'modern-test', version: '1' },
    ...o.meta
  };
  return JSON.stringify({ jsonrpc: '2.0', id: o.id ?? 1, method, params: { ...params, _meta } });
}

export async function modern(url: string, method: string, params: Record<string, unknown> = {}, o: ModernCall = {}): Promise<ModernAnswer> {
  const res = await fetch(url, { method: 'POST', headers: modernHeaders(method, params, o), body: modernBody(method, params, o), signal: o.signal });
  if ((res.headers.get('content-type') ?? '').includes('text/event-stream')) {
    const { events } = await readSse(res, (ev) => ev.some((e) => 'id' in JSON.parse(e.data)), 5000);
    const msgs = events.map((e) => JSON.parse(e.data));
    return { status: res.status, headers: res.headers, body: msgs[msgs.length - 1], related: msgs.slice(0, -1) };
  }
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text === '' ? {} : JSON.parse(text), related: [] };
}
