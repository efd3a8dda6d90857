// The answer to one modern POST: JSON until a related notification must go first, then SSE.
// A client closing the response before it is complete cancels the request (2026-07-28).
import type { FastifyReply } from 'fastify';
import { errorResponse, JsonRpcError, ErrorCode, type JsonRpcId, type JsonRpcMessage } from '../../mcp/jsonrpc';
import { writeSseHead } from '../sse-head';
import { sseFrame } from '../sse-stream';

/** HTTP status for a modern JSON-RPC error (only sent as plain JSON). */
export function statusFor(code: number): number {
  if (code === ErrorCode.MethodNotFound) return 404;
  if (code === ErrorCode.HeaderMismatch || code === ErrorCode.UnsupportedProtocolVersion || code === ErrorCode.MissingRequiredClientCapability
    || code === ErrorCode.InvalidRequest || code === ErrorCode.ParseError) return 400;
  return 200;
}

export function sendModernError(reply: FastifyReply, id: JsonRpcId | null, err: unknown, status?: number): FastifyReply {
  const e = err instanceof JsonRpcError ? err : new JsonRpcError(ErrorCode.InternalError, err instanceof Error ? err.message : 'Internal error');
  return reply.code(status ?? statusFor(e.code)).type('application/json').send(errorResponse(id, e.code, e.message, e.data));
}

export class ModernResponse {
  #sse = false;
  #done = false;

  constructor(private readonly reply: FastifyReply, onClientGone: () => void) {
    reply.raw.on('close', () => {
      if (!this.#done) onClientGone();
    });
  }

  get streaming(): boolean {
    return this.#sse;
  }

  /** A notification related to the request (progress, log): switches the answer to SSE. */
  related(msg: JsonRpcMessage): void {
    if (this.#done || this.reply.raw.destroyed) return;
    if (!this.#sse) {
      writeSseHead(this.reply);
      this.#sse = true;
    }
    this.reply.raw.write(sseFrame(JSON.stringify(msg)));
  }

  /** The final message; on SSE it ends the stream. */
  finish(msg: JsonRpcMessage, status = 200): FastifyReply {
    this.#done = true;
    if (!this.#sse) return this.reply.code(status).type('application/json').send(msg);
    if (!this.reply.raw.destroyed) this.reply.raw.end(sseFrame(JSON.stringify(msg)));
    return this.reply;
  }

  /** Nothing to send (the client went away). */
  abandon(): FastifyReply {
    this.#done = true;
    if (this.#sse) this.reply.raw.end();
    return this.reply;
  }
}
