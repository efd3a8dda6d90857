// JSON-RPC 2.0 message types and error codes shared by transports, gateway and server processes.
export type JsonRpcId = string | number;
export type JsonObject = Record<string, unknown>;

export interface JsonRpcRequest {
  jsonrpc: '2.0';
  id: JsonRpcId;
  method: string;
  params?: JsonObject;
}

export interface JsonRpcNotification {
  jsonrpc: '2.0';
  method: string;
  params?: JsonObject;
}

export interface JsonRpcErrorObject {
  code: number;
  message: string;
  data?: unknown;
}

export interface JsonRpcSuccess {
  jsonrpc: '2.0';
  id: JsonRpcId;
  result: JsonObject;
}

export interface JsonRpcErrorResponse {
  jsonrpc: '2.0';
  id: JsonRpcId | null;
  error: JsonRpcErrorObject;
}

export type JsonRpcResponse = JsonRpcSuccess | JsonRpcErrorResponse;
export type JsonRpcMessage = JsonRpcRequest | JsonRpcNotification | JsonRpcResponse;

export const ErrorCode = {
  ParseError: -32700,
  InvalidRequest: -32600,
  MethodNotFound: -32601,
  InvalidParams: -32602,
  InternalError: -32603,
  /** Implementation-defined range (-32000…-32019), as the SDK uses it. */
  ConnectionClosed: -32000,
  RequestTimeout: -32001,
  ResourceNotFound: -32002,
  /** 2026-07-28 */
  HeaderMismatch: -32020,
  MissingRequiredClientCapability: -32021,
  UnsupportedProtocolVersion: -32022
} as const;

/** Thrown by handlers and upstreams; transports turn it into a JSON-RPC error response. */
export class JsonRpcError extends Error {
  constructor(readonly code: number, message: string, readonly data?: unknown) {
    super(message);
    this.name = 'JsonRpcError';
  }

  toObject(): JsonRpcErrorObject {
    return this.data === undefined ? { code: this.code, message: this.message } : { code: this.code, message: this.message, data: this.data };
  }
}

export function isValidId(id: unknown): id is JsonRpcId {
  return (typeof id === 'string') || (typeof id === 'number' && Number.isFinite(id));
}

export type MessageKind = 'request' | 'notification' | 'response';

/** Classifies a parsed value as a JSON-RPC 2.0 message, or returns undefined when it is not one. */
export function classifyMessage(m: unknown): MessageKind | undefined {
  if (typeof m !== 'object' || m === null || Array.isArray(m)) return undefined;
  const o = m as JsonObject;
  if (o.jsonrpc !== '2.0') return undefined;
  if (typeof o.method === 'string') {
    if (o.params !== undefined && (typeof o.params !== 'object' || o.params === null)) return undefined;
    if (!('id' in o)) return 'notification';
    return isValidId(o.id) ? 'request' : undefined;
  }
  if ('method' in o) return undefined;
  const hasResult = 'result' in o;
  const hasError = 'error' in o;
  if (hasResult === hasError) return undefined;
  if (!(isValidId(o.id) || (o.id === null && hasError))) return undefined;
  if (hasError) {
    const e = o.error as JsonObject | null;
    if (typeof e !== 'object' || e === null || !Number.isInteger(e.code) || typeof e.message !== 'string') return undefined;
  }
  return 'response';
}

export function errorResponse(id: JsonRpcId | null, code: number, message: string, data?: unknown): JsonRpcErrorResponse {
  return { jsonrpc: '2.0', id, error: data === undefined ? { code, message } : { code, message, data } };
}

export function successResponse(id: JsonRpcId, result: JsonObject): JsonRpcSuccess {
  return { jsonrpc: '2.0', id, result };
}
