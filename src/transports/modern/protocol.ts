// MCP 2026-07-28 ("modern", stateless) vocabulary and how a POST is recognised as modern.
import type { FastifyRequest } from 'fastify';
import type { JsonObject } from '../../mcp/jsonrpc';
import { isSupportedProtocolVersion, SUPPORTED_PROTOCOL_VERSIONS } from '../../mcp/protocol';

export const MODERN_PROTOCOL_VERSION = '2026-07-28';
export const MODERN_VERSIONS: readonly string[] = [MODERN_PROTOCOL_VERSION];
/** What server/discover and -32022 list: this endpoint serves both eras. */
export const ALL_SUPPORTED_VERSIONS: readonly string[] = [MODERN_PROTOCOL_VERSION, ...SUPPORTED_PROTOCOL_VERSIONS];

export const META = {
  protocolVersion: 'io.modelcontextprotocol/protocolVersion',
  clientCapabilities: 'io.modelcontextprotocol/clientCapabilities',
  clientInfo: 'io.modelcontextprotocol/clientInfo',
  serverInfo: 'io.modelcontextprotocol/serverInfo',
  logLevel: 'io.modelcontextprotocol/logLevel',
  subscriptionId: 'io.modelcontextprotocol/subscriptionId'
} as const;

/** Methods a modern client may call here; anything else (initialize, ping, logging/setLevel, …) is 404/-32601. */
export const MODERN_METHODS: ReadonlySet<string> = new Set([
  'server/discover', 'subscriptions/listen', 'tools/list', 'tools/call', 'resources/list', 'resources/templates/list',
  'resources/read', 'prompts/list', 'prompts/get', 'completion/complete'
]);

/** Methods whose results carry caching hints (SEP-2549). */
export const CACHEABLE_METHODS: ReadonlySet<string> = new Set(['tools/list', 'prompts/list', 'resources/list', 'resources/templates/list', 'resources/read']);

/** Methods that may answer with an InputRequiredResult (SEP-2322). */
export const INPUT_METHODS: ReadonlySet<string> = new Set(['tools/call', 'prompts/get', 'resources/read']);

export function header(req: FastifyRequest, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

export function metaOf(params: JsonObject | undefined): JsonObject | undefined {
  const m = params?._meta;
  return typeof m === 'object' && m !== null && !Array.isArray(m) ? m as JsonObject : undefined;
}

/**
 * Modern semantics apply to a POST with the `_meta` protocol version, or to one without a session
 * that is not `initialize` and has Mcp-Method or a version header the 2025 era does not know.
 * Everything else, a plain `initialize` and every 2025 session request above all, keeps 2025 rules.
 */
export function isModernMessage(req: FastifyRequest, msg: unknown): boolean {
  const m = typeof msg === 'object' && msg !== null && !Array.isArray(msg) ? msg as JsonObject : undefined;
  const params = typeof m?.params === 'object' && m.params !== null ? m.params as JsonObject : undefined;
  // No 2025 client puts the version in _meta: a modern request, whatever Mcp-Session-Id says (ignored).
  if (metaOf(params)?.[META.protocolVersion] !== undefined) return true;
  // Without the _meta version an initialize is a 2025 client's (a modern one falling back included).
  if (header(req, 'mcp-session-id') !== undefined || m?.method === 'initialize') return false;
  return header(req, 'mcp-method') !== undefined || isModernVersionHeader(req);
}

/** A version header the 2025 era does not know (modern, or unknown: answered with -32022). */
function isModernVersionHeader(req: FastifyRequest): boolean {
  const v = header(req, 'mcp-protocol-version');
  return v !== undefined && !isSupportedProtocolVersion(v.trim());
}

/** A modern client's GET or DELETE (no session, modern version header): 405, never 2025 rules. */
export function isModernStreamRequest(req: FastifyRequest): boolean {
  const v = header(req, 'mcp-protocol-version');
  return header(req, 'mcp-session-id') === undefined && v !== undefined && MODERN_VERSIONS.includes(v.trim());
}

/**
 * A 2026-07-28 subscriptions/listen POST: open for the client's lifetime, so drains and concurrency
 * limits treat it like a GET stream. Session-less only (those are modern requests, whose body must
 * then match the header). Decided from headers: the body is not read yet.
 */
export function isListenStream(req: FastifyRequest): boolean {
  const method = header(req, 'mcp-method');
  return req.method === 'POST' && header(req, 'mcp-session-id') === undefined && method !== undefined && method.trim() === 'subscriptions/listen';
}
