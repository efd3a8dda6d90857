// Opaque pagination cursors of the aggregated lists.
import { ErrorCode, JsonRpcError } from '../mcp/jsonrpc';

export const PAGE_SIZE = 100;

export function paginate<T>(items: T[], kind: string, cursor: unknown, pageSize = PAGE_SIZE): { page: T[]; nextCursor?: string } {
  let offset = 0;
  if (cursor !== undefined) {
    const decoded = typeof cursor === 'string' ? decode(cursor) : undefined;
    if (!decoded || decoded.k !== kind || decoded.o > items.length) throw new JsonRpcError(ErrorCode.InvalidParams, 'Invalid params: invalid cursor');
    offset = decoded.o;
  }
  const page = items.slice(offset, offset + pageSize);
  const next = offset + pageSize;
  return next < items.length ? { page, nextCursor: encode(kind, next) } : { page };
}

function encode(kind: string, offset: number): string {
  return Buffer.from(JSON.stringify({ k: kind, o: offset })).toString('base64url');
}

function decode(cursor: string): { k: string; o: number } | undefined {
  try {
    const v = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as { k?: unknown; o?: unknown };
    if (typeof v.k === 'string' && Number.isInteger(v.o) && (v.o as number) >= 0) return { k: v.k, o: v.o as number };
  } catch {
    // falls through: not one of ours
  }
  return undefined;
}
