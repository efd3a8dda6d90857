// What is kept on disk of one Streamable HTTP session, and how a line of the file is read back.
import { createHash } from 'node:crypto';
import type { JsonObject } from '../../mcp/jsonrpc';
import type { SessionTarget } from '../../mcp/session-contract';

/** One persisted session. Keyed by the SHA-256 of its id: the id itself is a bearer secret and never written. */
export interface SessionRecord {
  /** hex SHA-256 of the session id. */
  hash: string;
  teamId: string;
  userId?: string;
  target: SessionTarget;
  protocolVersion: string;
  clientCapabilities: JsonObject;
  clientInfo?: JsonObject;
  /** The level of the client's last logging/setLevel, if any. */
  logLevel?: string;
  /** Resource URIs the client is subscribed to. */
  subscriptions: string[];
  createdAt: number;
  lastActivity: number;
}

/** A line of the journal: a whole record, an activity update, or a removal. */
export type JournalEntry =
  | { op: 'put'; r: SessionRecord }
  | { op: 'touch'; h: string; at: number }
  | { op: 'del'; h: string };

/** Keeps a hostile or buggy client from growing the file without bound. */
export const LIMITS = { subscriptions: 256, uriChars: 2048, subscriptionChars: 32 * 1024, recordChars: 64 * 1024 } as const;

export function hashSessionId(id: string): string {
  return createHash('sha256').update(id).digest('hex');
}

const isObject = (v: unknown): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);
const isStr = (v: unknown): v is string => typeof v === 'string';
const optStr = (v: unknown): boolean => v === undefined || isStr(v);
const isHash = (v: unknown): v is string => isStr(v) && /^[0-9a-f]{64}$/.test(v);
const isTime = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v) && v >= 0;

function isTarget(t: unknown): t is SessionTarget {
  if (!isObject(t) || !isStr(t.teamId)) return false;
  if (t.kind === 'team') return t.metaTools === undefined || typeof t.metaTools === 'boolean';
  return t.kind === 'server' && isStr(t.serverSlug);
}

function isRecord(r: unknown): r is SessionRecord {
  return isObject(r) && isHash(r.hash) && isStr(r.teamId) && optStr(r.userId) && isTarget(r.target)
    && r.target.teamId === r.teamId && isStr(r.protocolVersion) && isObject(r.clientCapabilities)
    && (r.clientInfo === undefined || isObject(r.clientInfo)) && optStr(r.logLevel)
    && Array.isArray(r.subscriptions) && r.subscriptions.every(isStr) && isTime(r.createdAt) && isTime(r.lastActivity);
}

/** One journal line, or undefined for a line that is torn (crash mid-write) or not ours. */
export function parseEntry(line: string): JournalEntry | undefined {
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (!isObject(v)) return undefined;
  if (v.op === 'put' && isRecord(v.r)) return { op: 'put', r: v.r };
  if (v.op === 'touch' && isHash(v.h) && isTime(v.at)) return { op: 'touch', h: v.h, at: v.at };
  if (v.op === 'del' && isHash(v.h)) return { op: 'del', h: v.h };
  return undefined;
}
