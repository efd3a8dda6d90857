// The seam between transports (src/transports/) and what serves a session (src/gateway/):
// transports own HTTP, sessions, streams and JSON-RPC framing; a handler owns MCP semantics.
import type { JsonObject, JsonRpcNotification, JsonRpcRequest } from './jsonrpc';

/** Who is calling: decided by the token (src/auth/), never by the session. */
export interface ClientIdentity {
  teamId: string;
  userId?: string;
  scopes: string[];
  /** Loopback anonymous access granted by the standalone config. */
  anonymous: boolean;
  clientId?: string;
}

/** What a session is bound to: the whole team (aggregated) or one server passed through. */
export type SessionTarget =
  /** metaTools: two meta-tools (discover/execute) instead of the catalog, e.g. from `?meta_tools=1`; unset = the team's config. */
  | { kind: 'team'; teamId: string; metaTools?: boolean }
  | { kind: 'server'; teamId: string; serverSlug: string };

export interface ClientInfo {
  protocolVersion: string;
  capabilities: JsonObject;
  clientInfo?: JsonObject;
}

/** Messages to the client that belong to no request (list_changed, resources/updated, ...): the GET / legacy SSE stream. */
export interface SessionOutbound {
  sendNotification(n: JsonRpcNotification): void;
  /** A server→client request on the standalone stream; rejects with JsonRpcError (e.g. no stream, timeout). */
  sendRequest(method: string, params?: JsonObject, signal?: AbortSignal): Promise<JsonObject>;
}

/** What a handler may do towards the client while serving one request (its own stream, in order). */
export interface RequestContext {
  sessionId: string;
  identity: ClientIdentity;
  /** Progress and logging related to this request; delivered before the response. */
  sendNotification(n: JsonRpcNotification): void;
  /** sampling/createMessage, elicitation/create, roots/list ... related to this request. */
  sendRequest(method: string, params?: JsonObject, signal?: AbortSignal): Promise<JsonObject>;
  /** Aborted on notifications/cancelled for this request, on session end, or on shutdown. */
  signal: AbortSignal;
}

/** Per-session MCP logic. Errors are thrown as JsonRpcError. */
export interface McpSessionHandler {
  /** Answers `initialize` (the transport fills in the negotiated protocolVersion). */
  initialize(client: ClientInfo): Promise<JsonObject>;
  handleRequest(req: JsonRpcRequest, ctx: RequestContext): Promise<JsonObject>;
  handleNotification(n: JsonRpcNotification): void;
  close(reason: string): void;
}

export interface SessionHandlerFactory {
  /** Throws JsonRpcError (e.g. unknown server slug for this team) when the target cannot be served. */
  create(target: SessionTarget, identity: ClientIdentity, outbound: SessionOutbound): McpSessionHandler;
  /** True when the target exists for this identity (404 otherwise, before any session is made). */
  exists(target: SessionTarget, identity: ClientIdentity): boolean;
}
