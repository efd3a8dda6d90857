import type { FastifyReply } from 'fastify';
import type { JsonRpcMessage, JsonRpcResponse } from '../mcp/jsonrpc';
import type { Exchange, McpSession } from './session';
import type { SseStream } from './sse-stream';
import { writeSseHead } from './sse-head';

/**
 * The answer to one POST with requests: JSON while only responses are produced, switching to
 * SSE the moment a related message must go out first. One ordered stream per POST, so progress
 * and log notifications always precede the response they belong to.
 */
export class PostExchange implements Exchange {
  #remaining: number;
  #collected: JsonRpcResponse[] = [];
  #stream: SseStream | undefined;
  #resolve!: (body: JsonRpcResponse | JsonRpcResponse[] | undefined) => void;
  /** Resolves with the JSON body to send, or undefined when the answer went out as SSE. */
  readonly done = new Promise<JsonRpcResponse | JsonRpcResponse[] | undefined>((r) => { this.#resolve = r; });

  constructor(private readonly reply: FastifyReply, private readonly session: McpSession, expected: number, private readonly batch: boolean) {
    this.#remaining = expected;
  }

  related(msg: JsonRpcMessage): void {
    if (this.#remaining === 0) return;
    this.#toSse().write(msg);
  }

  respond(res: JsonRpcResponse | undefined): void {
    if (this.#remaining === 0) return;
    if (res !== undefined) {
      if (this.#stream !== undefined) this.#stream.write(res);
      else this.#collected.push(res);
    }
    if (--this.#remaining > 0) return;
    if (this.#stream === undefined && this.#collected.length === 0) this.#toSse(); // all cancelled: an empty stream
    if (this.#stream !== undefined) {
      this.session.endRequestStream(this.#stream);
      this.#resolve(undefined);
    } else {
      this.#resolve(this.batch ? this.#collected : this.#collected[0]);
    }
  }

  #toSse(): SseStream {
    if (this.#stream !== undefined) return this.#stream;
    writeSseHead(this.reply);
    const stream = this.session.openRequestStream(this.reply.raw);
    this.#stream = stream;
    for (const r of this.#collected) stream.write(r);
    this.#collected = [];
    return stream;
  }
}
