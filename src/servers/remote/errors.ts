// Failures talking to a remote MCP server, turned into JSON-RPC errors a client (or a model) can act on.
import { ErrorCode, JsonRpcError } from '../../mcp/jsonrpc';

/** The server no longer knows our session (HTTP 404 with Mcp-Session-Id): re-initialize and retry. */
export class SessionExpiredError extends Error {
  constructor() {
    super('upstream session expired');
    this.name = 'SessionExpiredError';
  }
}

/** A failure of the link to the server (not an error the server itself answered): marks it down. */
export class TransportError extends JsonRpcError {
  constructor(message: string, code: number = ErrorCode.ConnectionClosed, data?: unknown) {
    super(code, message, data);
    this.name = 'TransportError';
  }
}

const NETWORK_WORDS: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  ENOTFOUND: 'host not found',
  EHOSTUNREACH: 'host unreachable',
  UND_ERR_SOCKET: 'connection closed by the server',
  UND_ERR_CONNECT_TIMEOUT: 'connect timeout'
};

export function unreachableError(slug: string, err: unknown): JsonRpcError {
  // Already in words (e.g. an OAuth server that needs the user to re-authorize).
  if (err instanceof JsonRpcError) return err;
  const e = err as { code?: string; cause?: { code?: string }; message?: string };
  const code = e.code ?? e.cause?.code;
  const why = code ? `${code}${NETWORK_WORDS[code] ? `: ${NETWORK_WORDS[code]}` : ''}` : e.message ?? String(err);
  return new TransportError(`Server '${slug}' is unreachable (${why}); it may be down, try again later.`);
}

export function timeoutError(slug: string, ms: number): JsonRpcError {
  return new JsonRpcError(ErrorCode.RequestTimeout, `Server '${slug}' did not answer within ${ms} ms.`);
}

/** A non-2xx answer: a JSON-RPC error body is passed on as is, anything else is described. */
export function httpStatusError(slug: string, status: number, body: string): JsonRpcError {
  try {
    const parsed = JSON.parse(body) as { error?: { code?: unknown; message?: unknown; data?: unknown } };
    const err = parsed.error;
    if (err && Number.isInteger(err.code) && typeof err.message === 'string') {
      return new TransportError(`Server '${slug}' answered HTTP ${status}: ${err.message}`, err.code as number, err.data);
    }
  } catch {
    // not JSON: described below
  }
  if (status === 401 || status === 403) {
    return new TransportError(`Server '${slug}' rejected the satellite's credentials (HTTP ${status}); an administrator must update its headers or re-authorize it.`);
  }
  const text = body.replace(/\s+/g, ' ').trim().slice(0, 200);
  return new TransportError(`Server '${slug}' answered HTTP ${status}${text ? `: ${text}` : ''}.`);
}

export function protocolError(slug: string, what: string): JsonRpcError {
  return new TransportError(`Server '${slug}' broke the MCP protocol: ${what}.`);
}
