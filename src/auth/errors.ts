// Failures of authentication/authorization, each mapped to one HTTP status and a JSON-RPC error body.
// Codes follow the original satellite where it had one (-32001, -32002, -32004).
export type AuthFailureKind = 'missing_token' | 'invalid_request' | 'invalid_token' | 'insufficient_scope' | 'unavailable' | 'rate_limited';

const STATUS: Record<AuthFailureKind, number> = {
  missing_token: 401,
  invalid_request: 401,
  invalid_token: 401,
  insufficient_scope: 403,
  unavailable: 503,
  rate_limited: 429
};

const CODE: Record<AuthFailureKind, number> = {
  missing_token: -32001,
  invalid_request: -32001,
  invalid_token: -32002,
  insufficient_scope: -32004,
  unavailable: -32005,
  rate_limited: -32029
};

/** Thrown by verifiers (no request context yet); the auth plugin adds the challenge headers. */
export class TokenRejectedError extends Error {
  constructor(readonly kind: 'invalid_token' | 'unavailable', message: string, readonly retryAfterSeconds?: number) {
    super(message);
    this.name = 'TokenRejectedError';
  }
}

/**
 * A complete HTTP answer: status, headers (WWW-Authenticate, Retry-After) and a JSON-RPC error body.
 * Fastify's default error handler honours `statusCode` and `headers`, so rethrowing it is also safe.
 */
export class AuthError extends Error {
  readonly statusCode: number;
  readonly code: number;

  constructor(
    readonly kind: AuthFailureKind,
    message: string,
    readonly headers: Record<string, string>,
    readonly data: Record<string, unknown> = {}
  ) {
    super(message);
    this.name = 'AuthError';
    this.statusCode = STATUS[kind];
    this.code = CODE[kind];
  }

  toJsonRpc(id: string | number | null = null): { jsonrpc: '2.0'; id: string | number | null; error: { code: number; message: string; data: Record<string, unknown> } } {
    return { jsonrpc: '2.0', id, error: { code: this.code, message: this.message, data: { oauth_error: this.kind, ...this.data } } };
  }
}

export function isAuthError(err: unknown): err is AuthError {
  return err instanceof AuthError;
}
