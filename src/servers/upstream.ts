// What the gateway needs of one MCP server, whatever carries it (stdio process or remote HTTP).
import type { JsonObject, JsonRpcNotification } from '../mcp/jsonrpc';

export type ServerStatus = 'starting' | 'online' | 'dormant' | 'restarting' | 'error' | 'permanently_failed' | 'stopped'
  /** A per-user instance whose user has not configured it yet (src/servers/awaiting-config.ts). */
  | 'awaiting_user_config'
  /** A remote server refused the user's OAuth token: the user must re-authorize it. */
  | 'requires_reauth';

export interface UpstreamCallOptions {
  signal?: AbortSignal;
  timeoutMs?: number;
  /** Progress pushes the deadline out by `timeoutMs`, never past this many ms after the call began (default 10x `timeoutMs`). */
  maxTimeoutMs?: number;
  /** For resources/subscribe and /unsubscribe: who holds the subscription; the upstream ref-counts holders (src/servers/subscription-set.ts). */
  subscriber?: object;
  /** Notifications the server relates to this call (progress with the caller's token restored, logging). */
  onNotification?(n: JsonRpcNotification): void;
  /** Server→client requests raised during this call (sampling, elicitation, roots, ping); `signal` aborts when the server cancels it. */
  onRequest?(method: string, params?: JsonObject, signal?: AbortSignal): Promise<JsonObject>;
  /** The satellite's own request (periodic re-discovery): not client activity, so it neither keeps a server awake nor counts in its request stats. */
  background?: boolean;
}

export interface UpstreamListener {
  /** Notifications that belong to no call: list_changed, resources/updated, logging outside a call. */
  onNotification?(n: JsonRpcNotification): void;
  /** Server→client requests outside any call; `signal` aborts when the server cancels it. */
  onRequest?(method: string, params?: JsonObject, signal?: AbortSignal): Promise<JsonObject>;
  onStatus?(status: ServerStatus): void;
}

export interface Upstream {
  readonly teamId: string;
  readonly serverSlug: string;
  readonly status: ServerStatus;
  /** The server's own InitializeResult (capabilities, serverInfo, instructions), once started. */
  readonly initializeResult: JsonObject | undefined;
  /** Starts or wakes the server and waits until it is online; throws JsonRpcError when it cannot be. */
  ensureReady(): Promise<void>;
  /** A request with a fresh upstream id; resolves with the result, rejects with JsonRpcError. */
  request(method: string, params: JsonObject | undefined, options?: UpstreamCallOptions): Promise<JsonObject>;
  notify(method: string, params?: JsonObject): void;
  addListener(listener: UpstreamListener): () => void;
}
