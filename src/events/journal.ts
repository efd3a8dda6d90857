import { appendFileSync, closeSync, ftruncateSync, mkdirSync, openSync, readFileSync, renameSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyBaseLogger } from 'fastify';
import type { EventSink } from './bus';
import type { SatelliteEvent } from './types';

export interface EventQueueOptions {
  /** Directory for `pending.jsonl` (append-only journal) and `cursor.json` (last finished sequence). */
  dir: string;
  /** Events held in memory; beyond this they live only in the journal until memory drains. */
  maxInMemory: number;
  log?: FastifyBaseLogger;
}

// Rewrite the journal once this many finished events sit at its head (when nothing is spilled).
const COMPACT_AFTER = 5_000;

/**
 * The durable FIFO behind the event bus in backend mode. Every event is appended to a JSON-lines
 * journal as it is emitted (so a crash loses nothing); `cursor.json` holds the sequence number of
 * the last event that is finished (delivered or deliberately dropped), so a restart resends
 * nothing that was delivered. Finished events always form a prefix because batches leave from
 * the head. Memory holds at most `maxInMemory` events; the rest are re-read from the journal.
 */
export class DurableEventQueue implements EventSink {
  readonly #journal: string;
  readonly #cursorFile: string;
  readonly #max: number;
  readonly #log: FastifyBaseLogger | undefined;
  #fd: number | undefined;
  #mem: SatelliteEvent[] = [];
  #spilled = 0;
  #cursor = 0;
  #lastSeq = 0;
  #doneSinceCompact = 0;
  #pendingWrite: string[] = [];
  #writeScheduled = false;
  #writeFailing = false;

  constructor(opts: EventQueueOptions) {
    mkdirSync(opts.dir, { recursive: true, mode: 0o700 });
    this.#journal = join(opts.dir, 'pending.jsonl');
    this.#cursorFile = join(opts.dir, 'cursor.json');
    this.#max = opts.maxInMemory;
    this.#log = opts.log;
    this.#cursor = this.#readCursor();
    this.#lastSeq = this.#cursor;
    this.#fd = openSync(this.#journal, 'a', 0o600);
    this.#reload();
    if (this.size > 0) this.#log?.info({ pending: this.size }, 'events from a previous run will be delivered');
  }

  get lastSeq(): number {
    return this.#lastSeq;
  }

  /** Events not yet finished (in memory plus spilled to disk only). */
  get size(): number {
    return this.#mem.length + this.#spilled;
  }

  get inMemory(): number {
    return this.#mem.length;
  }

  push(event: SatelliteEvent): void {
    if (event.seq <= this.#lastSeq) throw new Error(`event sequence ${event.seq} is not after ${this.#lastSeq}`);
    this.#lastSeq = event.seq;
    if (this.#fd === undefined) {
      // Emitted during shutdown after the queue closed: straight to the journal for the next run.
      try {
        appendFileSync(this.#journal, `${JSON.stringify(event)}\n`, { mode: 0o600 });
      } catch (err) {
        this.#log?.error({ err, type: event.type }, 'cannot journal an event emitted after shutdown; lost');
      }
      return;
    }
    this.#pendingWrite.push(`${JSON.stringify(event)}\n`);
    if (!this.#writeScheduled) {
      this.#writeScheduled = true;
      setImmediate(() => this.flushWrites());
    }
    if (this.#spilled === 0 && this.#mem.length < this.#max) this.#mem.push(event);
    else {
      if (this.#spilled === 0) this.#log?.warn({ inMemory: this.#mem.length }, 'event queue full in memory; spilling to disk');
      this.#spilled++;
    }
  }

  /** The first `n` unfinished events, in order. */
  peek(n: number): SatelliteEvent[] {
    if (this.#mem.length === 0 && this.#spilled > 0) this.#reload();
    return this.#mem.slice(0, n);
  }

  /** Marks the first `count` events finished; durable before it returns. */
  ack(count: number): void {
    if (count <= 0) return;
    const done = this.#mem.splice(0, count);
    const last = done.at(-1);
    if (!last) return;
    this.#cursor = last.seq;
    this.#writeCursor();
    this.#doneSinceCompact += done.length;
    try {
      if (this.size === 0) {
        this.flushWrites();
        if (this.size === 0 && this.#fd !== undefined && this.#pendingWrite.length === 0) {
          ftruncateSync(this.#fd, 0);
          this.#doneSinceCompact = 0;
        }
      } else if (this.#spilled === 0 && this.#doneSinceCompact >= COMPACT_AFTER) {
        this.#rewrite(this.#mem);
      }
    } catch (err) {
      // Compaction is housekeeping: the cursor already says what is done.
      this.#log?.warn({ err }, 'event journal compaction failed');
    }
  }

  /** Writes buffered journal lines now (also runs on the next tick after every push). */
  flushWrites(): void {
    this.#writeScheduled = false;
    if (this.#pendingWrite.length === 0 || this.#fd === undefined) return;
    const text = this.#pendingWrite.join('');
    this.#pendingWrite = [];
    try {
      writeSync(this.#fd, text);
    } catch (err) {
      // Disk full or gone: keep the lines in memory and try again with the next write.
      this.#pendingWrite.unshift(text);
      if (!this.#writeFailing) this.#log?.error({ err, file: this.#journal }, 'cannot write the event journal; events are kept in memory only');
      this.#writeFailing = true;
      return;
    }
    this.#writeFailing = false;
  }

  close(): void {
    this.flushWrites();
    if (this.#fd !== undefined) closeSync(this.#fd);
    this.#fd = undefined;
  }

  #reload(): void {
    this.flushWrites();
    const pending = this.#readJournal();
    this.#mem = pending.slice(0, this.#max);
    this.#spilled = pending.length - this.#mem.length;
    const last = pending.at(-1);
    if (last && last.seq > this.#lastSeq) this.#lastSeq = last.seq;
    // Drop finished lines from the file while we hold the whole of it anyway.
    this.#rewrite(pending);
  }

  #readJournal(): SatelliteEvent[] {
    let text: string;
    try {
      text = readFileSync(this.#journal, 'utf8');
    } catch {
      return [];
    }
    const out: SatelliteEvent[] = [];
    let bad = 0;
    for (const line of text.split('\n')) {
      if (!line) continue;
      try {
        const e = JSON.parse(line) as SatelliteEvent;
        if (typeof e.seq === 'number' && typeof e.type === 'string' && e.seq > this.#cursor) out.push(e);
      } catch {
        bad++; // a line torn by a crash mid-write
      }
    }
    if (bad > 0) this.#log?.warn({ lines: bad }, 'skipped unreadable lines in the event journal');
    out.sort((a, b) => a.seq - b.seq);
    return out;
  }

  #rewrite(events: SatelliteEvent[]): void {
    const tmp = `${this.#journal}.tmp`;
    writeFileSync(tmp, events.map((e) => `${JSON.stringify(e)}\n`).join(''), { mode: 0o600 });
    if (this.#fd !== undefined) closeSync(this.#fd);
    renameSync(tmp, this.#journal);
    this.#fd = openSync(this.#journal, 'a', 0o600);
    this.#doneSinceCompact = 0;
  }

  #readCursor(): number {
    try {
      const v = (JSON.parse(readFileSync(this.#cursorFile, 'utf8')) as { last_done_seq?: unknown }).last_done_seq;
      return typeof v === 'number' && Number.isFinite(v) ? v : 0;
    } catch {
      return 0;
    }
  }

  #writeCursor(): void {
    try {
      const tmp = `${this.#cursorFile}.tmp`;
      writeFileSync(tmp, JSON.stringify({ last_done_seq: this.#cursor }), { mode: 0o600 });
      renameSync(tmp, this.#cursorFile);
    } catch (err) {
      // Delivery goes on; only a restart before the next successful write would resend.
      this.#log?.error({ err, file: this.#cursorFile }, 'cannot record delivered events');
    }
  }
}
