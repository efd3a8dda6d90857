import type { ServerResponse } from 'node:http';
import type { JsonRpcMessage } from '../mcp/jsonrpc';
import type { EventLog } from './event-log';

export const SSE_HEADERS = {
  'content-type': 'text/event-stream',
  'cache-control': 'no-cache, no-transform',
  connection: 'keep-alive',
  // nginx and similar proxies must not buffer the stream
  'x-accel-buffering': 'no'
} as const;

export function sseFrame(data: string, id?: string, event = 'message'): string {
  return id === undefined ? `event: ${event}\ndata: ${data}\n\n` : `event: ${event}\nid: ${id}\ndata: ${data}\n\n`;
}

const ignoreError = (): void => undefined;

/** The `retry:` a priming event carries: how long a client waits before resuming a cut stream. */
export const SSE_RETRY_MS = 1000;

/** A connection that lets this much pile up unread is cut; the client may resume with Last-Event-ID. */
const MAX_UNREAD_BYTES = 8 << 20;

/**
 * One logical server→client SSE stream. The HTTP connection carrying it may drop and be
 * replaced on resumption; events written meanwhile stay in the session's log.
 */
export class SseStream {
  #conn: ServerResponse | undefined;
  #ended = false;

  constructor(readonly streamNo: number, private readonly log: EventLog | undefined) {}

  get connected(): boolean {
    return this.#conn !== undefined;
  }

  get ended(): boolean {
    return this.#ended;
  }

  /** Carries the stream on `res` from now on (headers already written). */
  attach(res: ServerResponse): void {
    // A resumed stream has one connection: the one it was cut from is finished.
    const previous = this.#conn;
    if (previous !== undefined && previous !== res && !previous.writableEnded) previous.end();
    this.#conn = res;
    res.on('error', ignoreError);
    res.once('close', () => {
      if (this.#conn === res) this.#conn = undefined;
    });
    if (this.#ended) this.end();
  }

  write(msg: JsonRpcMessage): void {
    const data = JSON.stringify(msg);
    const id = this.log?.append(this.streamNo, data);
    this.writeRaw(sseFrame(data, id));
  }

  writeRaw(text: string): void {
    const c = this.#conn;
    if (c === undefined || c.writableEnded || c.destroyed) return;
    if (c.writableLength > MAX_UNREAD_BYTES) {
      this.#conn = undefined;
      c.destroy();
      return;
    }
    c.write(text);
  }

  /**
   * 2025-11-25 priming event: an id and empty data, so a client can resume the stream from its very
   * start, and `retry:` for when the connection is cut. Only on streams that can be resumed.
   */
  prime(retryMs = SSE_RETRY_MS): void {
    if (this.log === undefined) return;
    this.writeRaw(`id: ${this.log.mark(this.streamNo)}\nretry: ${retryMs}\ndata: \n\n`);
  }

  keepAlive(): void {
    this.writeRaw(': keepalive\n\n');
  }

  end(): void {
    this.#ended = true;
    const c = this.#conn;
    this.#conn = undefined;
    if (c !== undefined && !c.writableEnded) c.end();
  }
}
