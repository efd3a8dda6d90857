// Raw request bodies to JSON-RPC messages, with JSON-RPC errors of our own shape (never Fastify's).
import type { FastifyInstance } from 'fastify';
import { classifyMessage, ErrorCode, isValidId, type JsonRpcId, type JsonRpcMessage, type MessageKind } from '../mcp/jsonrpc';

export interface ParsedMessage {
  msg: JsonRpcMessage;
  /** undefined: not a valid JSON-RPC message (answered with -32600). */
  kind: MessageKind | undefined;
}

export type ParsedBody =
  | { ok: true; batch: boolean; messages: ParsedMessage[] }
  | { ok: false; code: number; message: string };

/** Hands route handlers the raw body so that parse errors get a JSON-RPC -32700 answer. */
export function rawBodyParser(app: FastifyInstance): void {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
}

export function parseBody(body: unknown): ParsedBody {
  if (!Buffer.isBuffer(body) || body.length === 0) return { ok: false, code: ErrorCode.ParseError, message: 'Parse error: empty body' };
  let value: unknown;
  try {
    value = JSON.parse(body.toString('utf8'));
  } catch {
    return { ok: false, code: ErrorCode.ParseError, message: 'Parse error: invalid JSON' };
  }
  if (Array.isArray(value)) {
    if (value.length === 0) return { ok: false, code: ErrorCode.InvalidRequest, message: 'Invalid Request: empty batch' };
    return { ok: true, batch: true, messages: value.map((m) => ({ msg: m as JsonRpcMessage, kind: classifyMessage(m) })) };
  }
  return { ok: true, batch: false, messages: [{ msg: value as JsonRpcMessage, kind: classifyMessage(value) }] };
}

/** The id of an invalid message when it has a usable one, else null (JSON-RPC 2.0 §5). */
export function idOf(m: unknown): JsonRpcId | null {
  const id = typeof m === 'object' && m !== null ? (m as { id?: unknown }).id : undefined;
  return isValidId(id) ? id : null;
}
