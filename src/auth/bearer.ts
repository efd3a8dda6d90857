// Extracts the bearer token from the Authorization header; the query string is never consulted.
export type BearerResult = { kind: 'none' } | { kind: 'token'; token: string } | { kind: 'malformed'; reason: string };

const TOKEN68 = /^[A-Za-z0-9\-._~+/]+=*$/;

export function readBearer(header: string | string[] | undefined): BearerResult {
  if (header === undefined || header === '') return { kind: 'none' };
  if (Array.isArray(header)) return { kind: 'malformed', reason: 'more than one Authorization header' };
  const m = /^(\S+)\s+(.+)$/.exec(header.trim());
  if (!m || m[1]!.toLowerCase() !== 'bearer') return { kind: 'malformed', reason: 'Authorization must use the Bearer scheme' };
  const token = m[2]!.trim();
  if (!TOKEN68.test(token)) return { kind: 'malformed', reason: 'malformed bearer token' };
  return { kind: 'token', token };
}
