import { chmodSync, closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import type { FastifyBaseLogger } from 'fastify';
import { parseEntry, type JournalEntry, type SessionRecord } from './record';

export interface SessionJournalOptions {
  /** The JSON-lines file (its directory is created 0700, the file is 0600). */
  file: string;
  /** Records kept at most; past it the least recently active one is dropped. */
  maxRecords: number;
  /** Records read back at start that are still wanted (e.g. not expired). */
  keep?(r: SessionRecord): boolean;
  log?: FastifyBaseLogger;
}

/**
 * The sessions of the previous and the current run, as an append-only JSON-lines journal: every
 * change is one line, written in a batch on the next tick (never on a request's own path);
 * the file is rewritten with only the live records at start and whenever dead lines pile up.
 * A torn last line (a crash mid-write) is skipped on reading.
 */
export class SessionJournal {
  readonly #file: string;
  readonly #max: number;
  readonly #log: FastifyBaseLogger | undefined;
  readonly #records = new Map<string, SessionRecord>();
  #fd: number | undefined;
  #pending: string[] = [];
  #scheduled = false;
  /** Bytes appended since the file was last rewritten, and that rewrite's size: dead lines are rewritten away once they dominate. */
  #appended = 0;
  #rewritten = 0;
  /** A write failed: the next flush rewrites the whole file from memory instead of appending. */
  #dirty = false;

  constructor(opts: SessionJournalOptions) {
    this.#file = opts.file;
    this.#max = opts.maxRecords;
    this.#log = opts.log;
    mkdirSync(dirname(this.#file), { recursive: true, mode: 0o700 });
    this.#load(opts.keep ?? (() => true));
    this.#rewrite();
  }

  get size(): number {
    return this.#records.size;
  }

  get(hash: string): SessionRecord | undefined {
    return this.#records.get(hash);
  }

  records(): IterableIterator<SessionRecord> {
    return this.#records.values();
  }

  put(r: SessionRecord): void {
    this.#records.delete(r.hash); // re-inserted last: Map order is then least recently written first
    this.#records.set(r.hash, r);
    this.#append({ op: 'put', r });
    if (this.#records.size > this.#max) this.#evictOldest();
  }

  touch(hash: string, at: number): void {
    const r = this.#records.get(hash);
    if (r === undefined || at <= r.lastActivity) return;
    r.lastActivity = at;
    this.#append({ op: 'touch', h: hash, at });
  }

  delete(hash: string): void {
    if (this.#records.delete(hash)) this.#append({ op: 'del', h: hash });
  }

  /** Writes the buffered lines now (it also happens on the next tick after every change). */
  flush(): void {
    this.#scheduled = false;
    if (this.#fd === undefined) return;
    if (this.#dirty || this.#appended > Math.max(1 << 20, this.#rewritten * 2)) {
      this.#rewrite();
      return;
    }
    if (this.#pending.length === 0) return;
    const text = this.#pending.join('');
    this.#pending = [];
    try {
      writeSync(this.#fd, text);
    } catch (err) {
      // Disk full or gone: memory stays right; the next flush tries a whole rewrite.
      if (!this.#dirty) this.#log?.error({ err, file: this.#file }, 'cannot write the session journal; sessions may not survive a restart');
      this.#dirty = true;
    }
  }

  close(): void {
    this.flush();
    if (this.#fd !== undefined) closeSync(this.#fd);
    this.#fd = undefined;
  }

  #append(e: JournalEntry): void {
    if (this.#fd === undefined) return;
    const line = `${JSON.stringify(e)}\n`;
    this.#pending.push(line);
    this.#appended += line.length;
    if (this.#scheduled) return;
    this.#scheduled = true;
    setImmediate(() => this.flush());
  }

  #evictOldest(): void {
    let oldest: SessionRecord | undefined;
    for (const r of this.#records.values()) if (oldest === undefined || r.lastActivity < oldest.lastActivity) oldest = r;
    if (oldest !== undefined) this.delete(oldest.hash);
  }

  #load(keep: (r: SessionRecord) => boolean): void {
    let text: string;
    try {
      text = readFileSync(this.#file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') this.#log?.warn({ err, file: this.#file }, 'cannot read the session journal; starting without saved sessions');
      return;
    }
    let bad = 0;
    for (const line of text.split('\n')) {
      if (line === '') continue;
      const e = parseEntry(line);
      if (e === undefined) bad++;
      else if (e.op === 'put') this.#records.set(e.r.hash, e.r);
      else if (e.op === 'del') this.#records.delete(e.h);
      else {
        const r = this.#records.get(e.h);
        if (r !== undefined && e.at > r.lastActivity) r.lastActivity = e.at;
      }
    }
    if (bad > 0) this.#log?.warn({ file: this.#file, lines: bad }, 'skipped unreadable lines of the session journal');
    for (const r of [...this.#records.values()]) if (!keep(r)) this.#records.delete(r.hash);
    const byActivity = [...this.#records.values()].sort((a, b) => a.lastActivity - b.lastActivity);
    this.#records.clear();
    for (const r of byActivity.slice(-this.#max)) this.#records.set(r.hash, r);
  }

  /** Replaces the file with one line per record (temp file, fsync, rename), then appends to it. */
  #rewrite(): void {
    const tmp = `${this.#file}.tmp`;
    this.#pending = [];
    try {
      rmSync(tmp, { force: true }); // a leftover must not lend its mode to the new file
      const fd = openSync(tmp, 'w', 0o600);
      try {
        const lines: string[] = [];
        for (const r of this.#records.values()) lines.push(`${JSON.stringify({ op: 'put', r })}\n`);
        const text = lines.join('');
        if (text.length > 0) writeSync(fd, text);
        fsyncSync(fd);
        this.#rewritten = text.length;
      } finally {
        closeSync(fd);
      }
      renameSync(tmp, this.#file);
      if (this.#fd !== undefined) closeSync(this.#fd);
      this.#fd = openSync(this.#file, 'a', 0o600);
      chmodSync(this.#file, 0o600);
      this.#appended = 0;
      this.#dirty = false;
    } catch (err) {
      if (!this.#dirty) this.#log?.error({ err, file: this.#file }, 'cannot rewrite the session journal; sessions may not survive a restart');
      this.#dirty = true;
      // Keep appending to the old file if it is still open: the journal stays replayable.
      if (this.#fd === undefined) {
        try {
          this.#fd = openSync(this.#file, 'a', 0o600);
        } catch {
          // nothing more to do: memory still serves this run
        }
      }
    }
  }
}
