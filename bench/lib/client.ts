// What the load generator needs of one MCP client session, whatever carries it.
export type JsonObject = Record<string, unknown>;

export interface RpcExchange {
  /** The id this client put on the request (each client numbers from 1). */
  id: number;
  /** The JSON-RPC response that came back for it. */
  response: JsonObject;
}

export interface McpClient {
  /** Protocol version the server agreed to in initialize. */
  readonly protocolVersion: string;
  request(method: string, params?: JsonObject): Promise<RpcExchange>;
  close(): Promise<void>;
}

export const CLIENT_PROTOCOL_VERSION = '2025-06-18';
export const CLIENT_INFO = { name: 'satellite-bench', version: '1.0.0' };

export function initializeParams(): JsonObject {
  return { protocolVersion: CLIENT_PROTOCOL_VERSION, capabilities: {}, clientInfo: CLIENT_INFO };
}

/** The result of an initialize exchange, or a clear error naming what the server said. */
export function initializeResult(x: RpcExchange): JsonObject {
  const r = x.response.result;
  if (typeof r !== 'object' || r === null) throw new Error(`initialize failed: ${JSON.stringify(x.response.error ?? x.response).slice(0, 300)}`);
  return r as JsonObject;
}

/** A promise that rejects after `ms`, so that no wait in the benchmark is unbounded. */
export function deadline<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
  });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}
