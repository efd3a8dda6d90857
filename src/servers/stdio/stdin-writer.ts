import type { Writable } from 'node:stream';

export class StdinQueueFullError extends Error {
  constructor(readonly queuedBytes: number, readonly limit: number) {
    super(`stdin queue is full (${queuedBytes} bytes waiting, limit ${limit}): the server is not reading its input`);
    this.name = 'StdinQueueFullError';
  }
}

export class StdinClosedError extends Error {
  constructor() {
    super('the server process has closed its input');
    this.name = 'StdinClosedError';
  }
}

/**
 * Writes lines to a child's stdin honouring 'drain': what the pipe cannot take waits in a bounded queue.
 * Lines written in one turn of the event loop reach the pipe in one writev at its end: the stream
 * is corked on the first write and uncorked by setImmediate, so requests that arrive together
 * (several HTTP requests, a batch) cost one syscall and one wake-up of the child, not one each.
 */
export class StdinWriter {
  #queue: string[] = [];
  #queuedBytes = 0;
  #waitingDrain = false;
  #closed = false;
  #corked = false;
  readonly #uncork = (): void => {
    this.#corked = false;
    if (!this.stream.destroyed) this.stream.uncork();
  };

  constructor(private readonly stream: Writable, private readonly maxQueuedBytes: number) {
    stream.on('drain', () => this.#flush());
    stream.on('error', () => this.#close());
    stream.on('close', () => this.#close());
  }

  get queuedBytes(): number {
    return this.#queuedBytes;
  }

  /** Throws StdinQueueFullError or StdinClosedError; never blocks. */
  write(line: string): void {
    if (this.#closed || this.stream.writableEnded || this.stream.destroyed) throw new StdinClosedError();
    if (!this.#waitingDrain) {
      if (!this.#corked) {
        this.#corked = true;
        this.stream.cork();
        setImmediate(this.#uncork);
      }
      // Corked, write() still reports the buffered total against the high-water mark.
      this.#waitingDrain = !this.stream.write(line);
      return;
    }
    const bytes = Buffer.byteLength(line);
    if (this.#queuedBytes + bytes > this.maxQueuedBytes) throw new StdinQueueFullError(this.#queuedBytes, this.maxQueuedBytes);
    this.#queue.push(line);
    this.#queuedBytes += bytes;
  }

  end(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#queue = [];
    this.#queuedBytes = 0;
    if (!this.stream.destroyed && !this.stream.writableEnded) this.stream.end();
  }

  #flush(): void {
    this.#waitingDrain = false;
    while (this.#queue.length > 0 && !this.#waitingDrain && !this.#closed) {
      const line = this.#queue.shift()!;
      this.#queuedBytes -= Buffer.byteLength(line);
      this.#waitingDrain = !this.stream.write(line);
    }
  }

  #close(): void {
    this.#closed = true;
    this.#queue = [];
    this.#queuedBytes = 0;
  }
}
