import { closeSync, existsSync, fstatSync, mkdirSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';

// A batch larger than this is written at once instead of waiting for the end of the tick.
const MAX_PENDING_BYTES = 64 * 1024;

export interface RotatingFileOptions {
  /** A batch the disk refused: up to `lines` lines are lost (reported by the caller). */
  onError?: (err: Error, lines: number) => void;
}

/**
 * An append-only file rotated by size: `file` → `file.1` → … → `file.<maxFiles>` (dropped).
 * Lines written in one turn of the event loop go out together in one write at its end
 * (setImmediate), off the caller's path: one syscall per batch instead of one per line. The batch
 * is written before the loop waits for I/O again, on close(), and on process exit, so records
 * are readable right after the request that made them, and shutdown loses nothing.
 */
export class RotatingFile {
  #fd: number | undefined;
  #size = 0;
  #pending: string[] = [];
  #pendingBytes = 0;
  #scheduled: NodeJS.Immediate | undefined;
  readonly #flushOnExit = (): void => this.flush();

  constructor(readonly path: string, private readonly maxBytes: number, private readonly maxFiles: number, private readonly options: RotatingFileOptions = {}) {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    this.#open();
    process.once('exit', this.#flushOnExit);
  }

  /** Queues one whole line (ending in a newline); throws only when the file is closed. */
  write(line: string): void {
    if (this.#fd === undefined) throw new Error('audit file is closed');
    this.#pending.push(line);
    this.#pendingBytes += line.length;
    if (this.#pendingBytes >= MAX_PENDING_BYTES) this.flush();
    else this.#scheduled ??= setImmediate(() => this.flush());
  }

  get closed(): boolean {
    return this.#fd === undefined;
  }

  /** Writes the pending lines now, rotating on line boundaries. Never throws: failures go to onError. */
  flush(): void {
    if (this.#scheduled !== undefined) clearImmediate(this.#scheduled);
    this.#scheduled = undefined;
    const lines = this.#pending;
    if (lines.length === 0 || this.#fd === undefined) return;
    this.#pending = [];
    this.#pendingBytes = 0;
    try {
      let chunk = '';
      let chunkBytes = 0;
      for (const line of lines) {
        const bytes = Buffer.byteLength(line);
        if (this.#size + chunkBytes > 0 && this.#size + chunkBytes + bytes > this.maxBytes) {
          if (chunkBytes > 0) this.#writeChunk(chunk, chunkBytes);
          this.#rotate();
          chunk = '';
          chunkBytes = 0;
        }
        chunk += line;
        chunkBytes += bytes;
      }
      if (chunkBytes > 0) this.#writeChunk(chunk, chunkBytes);
    } catch (err) {
      this.options.onError?.(err as Error, lines.length);
    }
  }

  close(): void {
    this.flush();
    process.removeListener('exit', this.#flushOnExit);
    this.#closeFd();
  }

  #writeChunk(chunk: string, bytes: number): void {
    writeSync(this.#fd!, chunk);
    this.#size += bytes;
  }

  #closeFd(): void {
    if (this.#fd === undefined) return;
    closeSync(this.#fd);
    this.#fd = undefined;
  }

  #open(): void {
    this.#fd = openSync(this.path, 'a', 0o600);
    this.#size = fstatSync(this.#fd).size;
  }

  #rotate(): void {
    this.#closeFd();
    rmSync(`${this.path}.${this.maxFiles}`, { force: true });
    for (let i = this.maxFiles - 1; i >= 1; i--) {
      if (existsSync(`${this.path}.${i}`)) renameSync(`${this.path}.${i}`, `${this.path}.${i + 1}`);
    }
    renameSync(this.path, `${this.path}.1`);
    this.#open();
  }
}
