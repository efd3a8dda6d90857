// SEP-2243 request headers: MCP-Protocol-Version, Mcp-Method and Mcp-Name must agree with the body.
import type { FastifyRequest } from 'fastify';
import { ErrorCode, JsonRpcError, type JsonObject, type JsonRpcRequest } from '../../mcp/jsonrpc';
import { header, META, metaOf } from './protocol';

const BASE64_SENTINEL = /^=\?base64\?(.*)\?=$/;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

const mismatch = (what: string): JsonRpcError => new JsonRpcError(ErrorCode.HeaderMismatch, `Header mismatch: ${what}`);

/** A header value as sent: trimmed, `=?base64?…?=` decoded (strictly); throws -32020 on bad Base64. */
export function decodeHeaderValue(raw: string): string {
  const v = raw.trim();
  const m = BASE64_SENTINEL.exec(v);
  if (m === null) return v;
  const b64 = m[1]!;
  if (!BASE64.test(b64)) throw mismatch('invalid Base64 in header value');
  return Buffer.from(b64, 'base64').toString('utf8');
}

/** The body field Mcp-Name must equal, for the methods that name something. */
function nameOf(req: JsonRpcRequest): string | undefined {
  const p = req.params ?? {};
  if (req.method === 'tools/call' || req.method === 'prompts/get') return typeof p.name === 'string' ? p.name : undefined;
  if (req.method === 'resources/read') return typeof p.uri === 'string' ? p.uri : undefined;
  return undefined;
}

/** The `_meta` every modern request carries; -32602 when it or its required fields are missing. */
export function requestMeta(req: JsonRpcRequest): { version: string; capabilities: JsonObject; clientInfo?: JsonObject; meta: JsonObject } {
  const meta = metaOf(req.params);
  if (meta === undefined) throw new JsonRpcError(ErrorCode.InvalidParams, 'Invalid params: _meta is required');
  const version = meta[META.protocolVersion];
  if (typeof version !== 'string') throw new JsonRpcError(ErrorCode.InvalidParams, `Invalid params: _meta["${META.protocolVersion}"] is required`);
  const caps = meta[META.clientCapabilities];
  if (typeof caps !== 'object' || caps === null || Array.isArray(caps)) throw new JsonRpcError(ErrorCode.InvalidParams, `Invalid params: _meta["${META.clientCapabilities}"] is required`);
  const info = meta[META.clientInfo];
  return { version, capabilities: caps as JsonObject, meta, ...(typeof info === 'object' && info !== null ? { clientInfo: info as JsonObject } : {}) };
}

/** Throws -32020 when a routing header is missing or disagrees with the body (values are case-sensitive). */
export function checkHeaders(httpReq: FastifyRequest, req: JsonRpcRequest, version: string): void {
  const v = header(httpReq, 'mcp-protocol-version');
  if (v === undefined || v.trim() !== version) throw mismatch(`MCP-Protocol-Version (${v ?? 'missing'}) must equal _meta protocolVersion (${version})`);
  const method = header(httpReq, 'mcp-method');
  if (method === undefined || decodeHeaderValue(method) !== req.method) throw mismatch(`Mcp-Method (${method ?? 'missing'}) must equal the body's method (${req.method})`);
  const expected = nameOf(req);
  const name = header(httpReq, 'mcp-name');
  if (expected === undefined) {
    if (name !== undefined && ['tools/call', 'prompts/get', 'resources/read'].includes(req.method)) throw mismatch('Mcp-Name given but the body names nothing');
    return;
  }
  if (name === undefined || decodeHeaderValue(name) !== expected) throw mismatch(`Mcp-Name must equal the body's ${req.method === 'resources/read' ? 'uri' : 'name'}`);
}
