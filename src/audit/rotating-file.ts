import { closeSync, existsSync, fstatSync, mkdirSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';

/**
 * An append-only file rotated by size: `file` → `file.1` → … → `file.<maxFiles>` (dropped).
 * Writes are synchronous: an audit record is on disk (in the page cache) before record() returns,
 * so a crash loses nothing already recorded, and there is nothing to flush but the descriptor.
 */
export class RotatingFile {
  #fd: number | undefined;
  #size = 0;

  constructor(readonly path: string, private readonly maxBytes: number, private readonly maxFiles: number) {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    this.#open();
  }

  write(line: string): void {
    if (this.#fd === undefined) throw new Error('audit file is closed');
    const bytes = Buffer.byteLength(line);
    if (this.#size > 0 && this.#size + bytes > this.maxBytes) this.#rotate();
    writeSync(this.#fd!, line);
    this.#size += bytes;
  }

  get closed(): boolean {
    return this.#fd === undefined;
  }

  close(): void {
    if (this.#fd === undefined) return;
    closeSync(this.#fd);
    this.#fd = undefined;
  }

  #open(): void {
    this.#fd = openSync(this.path, 'a', 0o600);
    this.#size = fstatSync(this.#fd).size;
  }

  #rotate(): void {
    this.close();
    rmSync(`${this.path}.${this.maxFiles}`, { force: true });
    for (let i = this.maxFiles - 1; i >= 1; i--) {
      if (existsSync(`${this.path}.${i}`)) renameSync(`${this.path}.${i}`, `${this.path}.${i + 1}`);
    }
    renameSync(this.path, `${this.path}.1`);
    this.#open();
  }
}
