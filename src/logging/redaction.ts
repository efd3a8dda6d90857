// Paths pino must never print: credentials of clients, of servers and of the satellite itself.
export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["mcp-session-id"]',
  'res.headers["mcp-session-id"]',
  'headers.authorization',
  '*.headers.authorization',
  '*.headers.Authorization',
  'authorization',
  'token',
  '*.token',
  'access_token',
  '*.access_token',
  'refresh_token',
  '*.refresh_token',
  'api_key',
  '*.api_key',
  'apiKey',
  '*.apiKey',
  'client_secret',
  '*.client_secret',
  'registrationToken',
  '*.registrationToken',
  'env',
  '*.env',
  '*.*.env',
  'headers',
  'config.headers',
  '*.config.headers',
  'url_query_params',
  '*.url_query_params'
];

const SECRET_QUERY = /([?&](?:token|access_token|sessionId|session|api_key|key)=)[^&#]*/gi;

/** Strips secret-bearing query values from a URL before it reaches a log line. */
export function redactUrl(url: string): string {
  return url.replace(SECRET_QUERY, '$1[Redacted]');
}
