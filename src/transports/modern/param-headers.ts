// SEP-2243 custom headers: a tool parameter annotated `x-mcp-header: X` travels also as
// `Mcp-Param-X`; the gateway checks header and body agree (400/-32020) before the call runs.
import type { FastifyRequest } from 'fastify';
import { ErrorCode, JsonRpcError, type JsonObject } from '../../mcp/jsonrpc';
import type { ClientIdentity, McpSessionHandler } from '../../mcp/session-contract';
import { decodeHeaderValue } from './headers';
import { header } from './protocol';

/** Parameter name → header suffix, per tool name. */
export type ParamHeaderMap = Map<string, Record<string, string>>;

const MAX_PAGES = 20;

function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function annotated(tool: JsonObject): Record<string, string> | undefined {
  const props = isObject(tool.inputSchema) && isObject(tool.inputSchema.properties) ? tool.inputSchema.properties : undefined;
  let out: Record<string, string> | undefined;
  for (const [param, schema] of Object.entries(props ?? {})) {
    const h = isObject(schema) ? schema['x-mcp-header'] : undefined;
    if (typeof h === 'string' && h !== '') (out ??= {})[param] = h;
  }
  return out;
}

/** The annotated parameters of every tool the handler lists (paged, bounded). */
async function load(handler: McpSessionHandler, identity: ClientIdentity, signal: AbortSignal): Promise<ParamHeaderMap> {
  const map: ParamHeaderMap = new Map();
  const ctx = { sessionId: '', identity, signal, sendNotification: () => undefined, sendRequest: async () => ({}) };
  let cursor: unknown;
  for (let page = 0; page < MAX_PAGES; page++) {
    const params: JsonObject = cursor === undefined ? {} : { cursor };
    const r = await handler.handleRequest({ jsonrpc: '2.0', id: `param-headers-${page}`, method: 'tools/list', params }, ctx);
    for (const t of Array.isArray(r.tools) ? r.tools : []) {
      const a = isObject(t) && typeof t.name === 'string' ? annotated(t) : undefined;
      if (a !== undefined) map.set((t as JsonObject).name as string, a);
    }
    cursor = r.nextCursor;
    if (typeof cursor !== 'string') break;
  }
  return map;
}

/** Short-lived per caller and target, so that a tool call does not list the tools each time. */
export class ParamHeaderCache {
  readonly #entries = new Map<string, { expires: number; map: Promise<ParamHeaderMap> }>();

  constructor(private readonly ttlMs = 10_000, private readonly maxEntries = 1000) {}

  get(key: string, handler: McpSessionHandler, identity: ClientIdentity, signal: AbortSignal): Promise<ParamHeaderMap> {
    const now = Date.now();
    const hit = this.#entries.get(key);
    if (hit !== undefined && hit.expires > now) return hit.map;
    if (this.#entries.size >= this.maxEntries) {
      for (const [k, e] of this.#entries) if (e.expires <= now) this.#entries.delete(k);
      if (this.#entries.size >= this.maxEntries) this.#entries.delete(this.#entries.keys().next().value as string);
    }
    const map = load(handler, identity, signal);
    this.#entries.set(key, { expires: now + this.ttlMs, map });
    map.catch(() => this.#entries.delete(key));
    return map;
  }
}

/** Throws -32020 when an annotated argument and its Mcp-Param header disagree (or one is missing). */
export function checkParamHeaders(req: FastifyRequest, args: unknown, params: Record<string, string> | undefined): void {
  if (params === undefined) return;
  const a = isObject(args) ? args : {};
  for (const [param, suffix] of Object.entries(params)) {
    const raw = header(req, `mcp-param-${suffix.toLowerCase()}`);
    const value = a[param];
    const present = value !== undefined && value !== null;
    if (raw === undefined) {
      if (present) throw new JsonRpcError(ErrorCode.HeaderMismatch, `Header mismatch: Mcp-Param-${suffix} is required when ${param} is given`);
      continue;
    }
    const decoded = decodeHeaderValue(raw);
    if (!present || decoded !== (typeof value === 'string' ? value : JSON.stringify(value))) {
      throw new JsonRpcError(ErrorCode.HeaderMismatch, `Header mismatch: Mcp-Param-${suffix} must equal the argument ${param}`);
    }
  }
}
