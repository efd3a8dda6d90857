// What modern results carry on top of what a 2025-era handler returns.
import { ErrorCode, JsonRpcError, type JsonObject, type JsonRpcRequest } from '../../mcp/jsonrpc';
import { CACHEABLE_METHODS, META } from './protocol';

/** The gateway does not know how long a backend's lists stay valid: no caching, per caller. */
const DEFAULT_TTL_MS = 0;

export function completeResult(req: JsonRpcRequest, result: JsonObject): JsonObject {
  const out: JsonObject = { ...result, resultType: 'complete' };
  if (CACHEABLE_METHODS.has(req.method)) {
    if (!(Number.isInteger(out.ttlMs) && (out.ttlMs as number) >= 0)) out.ttlMs = DEFAULT_TTL_MS;
    // Every answer is per team (and token), never shareable across callers.
    if (out.cacheScope !== 'public' && out.cacheScope !== 'private') out.cacheScope = 'private';
  }
  return out;
}

/** 2026-07-28 reports an unknown resource as -32602 with the uri (SEP-2164); 2025 backends say -32002. */
export function modernError(req: JsonRpcRequest, err: unknown): unknown {
  if (req.method === 'resources/read' && err instanceof JsonRpcError && err.code === ErrorCode.ResourceNotFound) {
    return new JsonRpcError(ErrorCode.InvalidParams, err.message, { uri: req.params?.uri });
  }
  return err;
}

/** The `_meta` keys of the modern envelope and the MRTR fields stay at the gateway; the backend speaks 2025. */
export function backendRequest(req: JsonRpcRequest): JsonRpcRequest {
  const { _meta, inputResponses: _r, requestState: _s, ...params } = req.params ?? {};
  const meta: JsonObject = {};
  for (const [k, v] of Object.entries((_meta ?? {}) as JsonObject)) if (!k.startsWith('io.modelcontextprotocol/')) meta[k] = v;
  return { ...req, params: Object.keys(meta).length > 0 ? { ...params, _meta: meta } : params };
}

export function serverInfoMeta(serverInfo: unknown): JsonObject {
  return typeof serverInfo === 'object' && serverInfo !== null ? { [META.serverInfo]: serverInfo } : {};
}
