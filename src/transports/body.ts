// Raw request bodies to JSON-RPC messages, with JSON-RPC errors of our own shape (never Fastify's).
import type { FastifyInstance } from 'fastify';
import { classifyMessage, ErrorCode, isValidId, type JsonRpcId, type JsonRpcMessage, type JsonRpcRequest, type MessageKind } from '../mcp/jsonrpc';

export interface ParsedMessage {
  msg: JsonRpcMessage;
  /** undefined: not a valid JSON-RPC message (answered with -32600). */
  kind: MessageKind | undefined;
}

export interface ParsedMessages {
  ok: true;
  batch: boolean;
  messages: ParsedMessage[];
  requests: number;
  invalid: number;
  /** The initialize request, when the body holds one. */
  initialize: JsonRpcRequest | undefined;
}

export type ParsedBody = ParsedMessages | { ok: false; code: number; message: string };

function summarize(batch: boolean, messages: ParsedMessage[]): ParsedMessages {
  let requests = 0;
  let invalid = 0;
  let initialize: JsonRpcRequest | undefined;
  for (const m of messages) {
    if (m.kind === undefined) invalid++;
    else if (m.kind === 'request') {
      requests++;
      if ((m.msg as JsonRpcRequest).method === 'initialize') initialize ??= m.msg as JsonRpcRequest;
    }
  }
  return { ok: true, batch, messages, requests, invalid, initialize };
}

/** Hands route handlers the raw body so that parse errors get a JSON-RPC -32700 answer. */
export function rawBodyParser(app: FastifyInstance): void {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
}

// Deeper values overflow the stack of every recursive walker down the line (JSON.stringify towards
// the server, the audit hash); no MCP message needs this many levels.
export const MAX_JSON_DEPTH = 256;

/** Whether `value` nests arrays/objects deeper than `max` levels; iterative, so it cannot overflow itself. */
function deeperThan(value: unknown, max: number): boolean {
  const stack: Array<[unknown, number]> = [[value, 1]];
  while (stack.length > 0) {
    const [v, depth] = stack.pop()!;
    if (v === null || typeof v !== 'object') continue;
    if (depth > max) return true;
    for (const child of Object.values(v)) if (child !== null && typeof child === 'object') stack.push([child, depth + 1]);
  }
  return false;
}

// fatal: invalid UTF-8 is a parse error, never silently replaced by U+FFFD and passed on.
const utf8 = new TextDecoder('utf-8', { fatal: true });

export function parseBody(body: unknown): ParsedBody {
  if (!Buffer.isBuffer(body) || body.length === 0) return { ok: false, code: ErrorCode.ParseError, message: 'Parse error: empty body' };
  let text: string;
  try {
    text = utf8.decode(body);
  } catch {
    return { ok: false, code: ErrorCode.ParseError, message: 'Parse error: invalid UTF-8' };
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { ok: false, code: ErrorCode.ParseError, message: 'Parse error: invalid JSON' };
  }
  // Every level takes at least one bracket: a text no longer than the limit cannot exceed it
  // (most requests), so the walk over every node runs only for bodies that could.
  if (text.length > MAX_JSON_DEPTH && deeperThan(value, MAX_JSON_DEPTH)) return { ok: false, code: ErrorCode.InvalidRequest, message: `Invalid Request: nested deeper than ${MAX_JSON_DEPTH} levels` };
  if (Array.isArray(value)) {
    if (value.length === 0) return { ok: false, code: ErrorCode.InvalidRequest, message: 'Invalid Request: empty batch' };
    return summarize(true, value.map((m) => ({ msg: m as JsonRpcMessage, kind: classifyMessage(m) })));
  }
  return summarize(false, [{ msg: value as JsonRpcMessage, kind: classifyMessage(value) }]);
}

/** The id of an invalid message when it has a usable one, else null (JSON-RPC 2.0 §5). */
export function idOf(m: unknown): JsonRpcId | null {
  const id = typeof m === 'object' && m !== null ? (m as { id?: unknown }).id : undefined;
  return isValidId(id) ? id : null;
}
