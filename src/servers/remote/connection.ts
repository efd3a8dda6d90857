// What the remote upstream needs of a wire protocol (Streamable HTTP or legacy HTTP+SSE).
import type { JsonRpcId, JsonRpcMessage } from '../../mcp/jsonrpc';

export interface ConnectionEvents {
  /** A message from the server; `relatedId` is the id of our request whose stream carried it. */
  onMessage(message: JsonRpcMessage, relatedId?: JsonRpcId): void;
  /** The server forgot our session, or the session's stream is gone for good. */
  onLost(error: Error): void;
  /** The server's own stream could not be reopened: the server looks down (calls in flight may still finish). */
  onDown(error: Error): void;
}

export interface RemoteConnection {
  readonly kind: 'http' | 'sse';
  /** Whether a message arriving outside any request stream can be tied to a call (legacy SSE cannot). */
  readonly attributesMessages: boolean;
  /** What must exist before `initialize` (legacy SSE: the GET stream and its endpoint). */
  open(signal: AbortSignal): Promise<void>;
  /** After initialize: the negotiated version; opens the server's own stream if it offers one. */
  ready(protocolVersion: string): void;
  /**
   * POSTs one message. For a request on Streamable HTTP it resolves after the response has been
   * handed to onMessage (or the stream ended); throws SessionExpiredError on 404, JsonRpcError otherwise.
   */
  send(message: JsonRpcMessage, options: { signal?: AbortSignal; timeoutMs?: number }): Promise<void>;
  /** Ends the session (DELETE on Streamable HTTP) and every stream. */
  close(): Promise<void>;
}
