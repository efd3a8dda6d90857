import { createHash, createHmac } from 'node:crypto';

const SECRET_KEY = /token|secret|password|passwd|authorization|cookie|api_?key|credential|query_params|^env$|^headers$/i;
const MAX_STRING = 500;
const MAX_LIST = 100;

/** Argument names (sorted) and a keyed hash of the whole value: correlation without content. */
export function describeArguments(args: unknown, hashKey: Buffer): { argumentNames: string[]; argumentsHash: string } | undefined {
  if (args === undefined || args === null) return undefined;
  const names = typeof args === 'object' && !Array.isArray(args) ? Object.keys(args).sort().slice(0, MAX_LIST) : [];
  const hash = createHmac('sha256', hashKey).update(canonicalJson(args)).digest('hex').slice(0, 32);
  return { argumentNames: names, argumentsHash: hash };
}

function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'undefined';
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.keys(value).sort().map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`);
  return `{${entries.join(',')}}`;
}

/**
 * The last line of defence for a record: secret-looking keys dropped, strings cut and stripped
 * of secret query values, only flat values and string lists kept.
 */
export function sanitizeFields(fields: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(fields)) {
    if (value === undefined || SECRET_KEY.test(key)) continue;
    if (typeof value === 'string') out[key] = cleanString(value);
    else if (typeof value === 'number' || typeof value === 'boolean') out[key] = value;
    else if (Array.isArray(value)) out[key] = value.slice(0, MAX_LIST).filter((v) => typeof v === 'string').map(cleanString);
  }
  return out;
}

// Query parameters whose name suggests a credential, and bearer tokens, inside free text.
const SECRET_QUERY = /([?&][^=&#\s]*(?:token|key|secret|password|session|sig|auth)[^=&#\s]*=)[^&#\s]*/gi;
const BEARER = /\b(Bearer)\s+[^\s,;"]+/gi;

// Both patterns need one of these; most strings (ids, slugs, outcomes) have none and skip the work.
const MAY_HOLD_SECRET = /[?&]|bearer/i;

function cleanString(s: string): string {
  if (!MAY_HOLD_SECRET.test(s)) return s.length > MAX_STRING ? s.slice(0, MAX_STRING) : s;
  return s.replace(SECRET_QUERY, '$1[Redacted]').replace(BEARER, '$1 [Redacted]').slice(0, MAX_STRING);
}

/** A stable stand-in for an id that is itself a credential (session ids): correlates, cannot be replayed. */
export function hashId(id: string): string {
  return `sha256:${createHash('sha256').update(id).digest('hex').slice(0, 16)}`;
}
