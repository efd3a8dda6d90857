import { appendFileSync, closeSync, fstatSync, ftruncateSync, mkdirSync, openSync, readFileSync, readSync, renameSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyBaseLogger } from 'fastify';
import type { EventSink } from './bus';
import type { SatelliteEvent } from './types';

export interface EventQueueOptions {
  /** Directory for `pending.jsonl` (append-only journal) and `cursor.json` (last finished sequence). */
  dir: string;
  /** Events held in memory; beyond this they live only in the journal until memory drains. */
  maxInMemory: number;
  /** Journal bytes held while the disk refuses them, beyond which spilled events are dropped (default 32 MiB). */
  maxUnwrittenBytes?: number;
  log?: FastifyBaseLogger;
}

// Rewrite the journal once this many finished events sit at its head (when nothing is spilled).
const COMPACT_AFTER = 5_000;
const READ_CHUNK = 1 << 20;

/**
 * The durable FIFO behind the event bus in backend mode. Every event is appended to a JSON-lines
 * journal as it is emitted (so a crash loses nothing); `cursor.json` holds the sequence number of
 * the last event that is finished (delivered or deliberately dropped), so a restart resends
 * nothing that was delivered. Finished events always form a prefix because batches leave from
 * the head. Memory holds at most `maxInMemory` events; the rest are read back from the journal,
 * from a byte offset, when memory drains (so a large spill is read once, not once per refill).
 */
export class DurableEventQueue implements EventSink {
  readonly #journal: string;
  readonly #cursorFile: string;
  readonly #max: number;
  readonly #log: FastifyBaseLogger | undefined;
  #fd: number | undefined;
  #mem: SatelliteEvent[] = [];
  /** Unfinished events that are only in the journal, starting at byte #diskOffset. */
  #spilled = 0;
  #diskOffset = 0;
  #cursor = 0;
  #lastSeq = 0;
  #doneSinceCompact = 0;
  /** Journal bytes not yet written (a disk-full write leaves its unwritten tail here). */
  #pendingWrite: Buffer[] = [];
  #pendingBytes = 0;
  readonly #maxUnwritten: number;
  /** Events dropped because neither the disk nor memory could take them: this episode, and in all. */
  #droppedUnwritable = 0;
  #droppedTotal = 0;
  #writeScheduled = false;
  #writeFailing = false;

  constructor(opts: EventQueueOptions) {
    mkdirSync(opts.dir, { recursive: true, mode: 0o700 });
    this.#journal = join(opts.dir, 'pending.jsonl');
    this.#cursorFile = join(opts.dir, 'cursor.json');
    this.#max = opts.maxInMemory;
    this.#maxUnwritten = opts.maxUnwrittenBytes ?? 32 * 1024 * 1024;
    this.#log = opts.log;
    this.#cursor = this.#readCursor();
    this.#lastSeq = this.#cursor;
    this.#fd = openSync(this.#journal, 'a', 0o600);
    this.#load();
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

  /** The journal cannot be written (disk full, not writable): events are held in memory only. */
  get writeFailing(): boolean {
    return this.#writeFailing;
  }

  push(event: SatelliteEvent): void {
    if (event.seq <= this.#lastSeq) throw new Error(`event sequence ${event.seq} is not after ${this.#lastSeq}`);
    this.#lastSeq = event.seq;
    const line = `${JSON.stringify(event)}\n`;
    if (this.#fd === undefined) {
      // Emitted during shutdown after the queue closed: straight to the journal for the next run.
      try {
        appendFileSync(this.#journal, line, { mode: 0o600 });
      } catch (err) {
        this.#log?.error({ err, type: event.type }, 'cannot journal an event emitted after shutdown; lost');
      }
      return;
    }
    const spilling = this.#spilled > 0 || this.#mem.length >= this.#max;
    if (spilling && this.#writeFailing && this.#pendingBytes + line.length > this.#maxUnwritten) {
      // Memory is full and the disk refuses writes: nowhere left to keep it without growing unbounded.
      this.#droppedTotal++;
      if (this.#droppedUnwritable++ === 0) this.#log?.error({ unwrittenBytes: this.#pendingBytes }, 'event journal not writable and memory full; dropping new events until the disk takes writes again');
      return;
    }
    if (this.#spilled === 0 && this.#mem.length >= this.#max) {
      // Spilling starts: later events are read back from the journal from where this one lands.
      this.flushWrites();
      this.#diskOffset = fstatSync(this.#fd).size + this.#pendingBytes;
      this.#log?.warn({ inMemory: this.#mem.length }, 'event queue full in memory; spilling to disk');
    }
    const bytes = Buffer.from(line);
    this.#pendingWrite.push(bytes);
    this.#pendingBytes += bytes.length;
    if (!this.#writeScheduled) {
      this.#writeScheduled = true;
      setImmediate(() => this.flushWrites());
    }
    if (this.#spilled === 0 && this.#mem.length < this.#max) this.#mem.push(event);
    else this.#spilled++;
  }

  /** The first `n` unfinished events, in order. */
  peek(n: number): SatelliteEvent[] {
    if (this.#mem.length === 0 && this.#spilled > 0) this.#refill();
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
    if (this.#fd === undefined) return; // a post that outlived shutdown: the cursor is all that matters
    try {
      if (this.size === 0) {
        // All finished: bytes still waiting for disk space (disk full) describe finished events only.
        this.#pendingWrite = [];
        this.#pendingBytes = 0;
        this.#recovered();
        ftruncateSync(this.#fd, 0);
        this.#doneSinceCompact = 0;
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
    const data = Buffer.concat(this.#pendingWrite);
    this.#pendingWrite = [];
    this.#pendingBytes = 0;
    let written = 0;
    try {
      // A filling disk takes part of a write without an error; the next call then fails ENOSPC.
      while (written < data.length) written += writeSync(this.#fd, data, written);
    } catch (err) {
      // Disk full or gone: keep the unwritten bytes in memory and try again with the next write.
      this.#pendingWrite.unshift(data.subarray(written));
      this.#pendingBytes = data.length - written;
      if (!this.#writeFailing) this.#log?.error({ err, file: this.#journal }, 'cannot write the event journal; events are kept in memory only');
      this.#writeFailing = true;
      return;
    }
    this.#recovered();
  }

  /** Events dropped so far because neither the disk nor memory could take them. */
  get droppedUnwritable(): number {
    return this.#droppedTotal;
  }

  #recovered(): void {
    if (this.#writeFailing && this.#droppedUnwritable > 0) this.#log?.warn({ dropped: this.#droppedUnwritable }, 'event journal writable again; events were dropped meanwhile');
    this.#writeFailing = false;
    this.#droppedUnwritable = 0;
  }

  close(): void {
    this.flushWrites();
    if (this.#fd !== undefined) closeSync(this.#fd);
    this.#fd = undefined;
  }

  /** Start: the first `max` unfinished events into memory, the rest counted; compacts when all fit. */
  #load(): void {
    let bad = 0;
    this.#scan(0, (e, endOffset) => {
      if (e === undefined) {
        bad++;
        return;
      }
      if (e.seq > this.#lastSeq) this.#lastSeq = e.seq;
      if (this.#spilled === 0 && this.#mem.length < this.#max) {
        this.#mem.push(e);
        this.#diskOffset = endOffset;
      } else this.#spilled++;
    });
    if (bad > 0) this.#log?.warn({ lines: bad }, 'skipped unreadable lines in the event journal');
    if (this.#spilled === 0) this.#rewrite(this.#mem);
  }

  /** Memory drained while events wait on disk: read the next `max` of them from #diskOffset. */
  #refill(): void {
    this.flushWrites();
    let remaining = this.#spilled;
    this.#scan(this.#diskOffset, (e, endOffset) => {
      if (this.#mem.length >= this.#max || remaining === 0) return false;
      this.#diskOffset = endOffset;
      if (e === undefined) return;
      this.#mem.push(e);
      remaining--;
    });
    // Nothing readable although events were counted: unless their write is still pending (disk
    // full, retried), they cannot come back, so do not wait for them forever.
    this.#spilled = this.#mem.length === 0 && !this.#writeFailing ? 0 : remaining;
  }

  /**
   * Calls `visit` for each unfinished event from byte `from` on (undefined for an unreadable line),
   * with the byte offset just past its line; `visit` returning false stops the scan.
   */
  #scan(from: number, visit: (e: SatelliteEvent | undefined, endOffset: number) => boolean | void): void {
    let fd: number;
    try {
      fd = openSync(this.#journal, 'r');
    } catch {
      return;
    }
    try {
      const buf = Buffer.alloc(READ_CHUNK);
      let carry = Buffer.alloc(0);
      let pos = from;
      let lineStart = from;
      for (;;) {
        const n = readSync(fd, buf, 0, READ_CHUNK, pos);
        if (n === 0) return; // a trailing partial line is a write torn by a crash: ignored
        pos += n;
        let data = carry.length ? Buffer.concat([carry, buf.subarray(0, n)]) : buf.subarray(0, n);
        let nl: number;
        while ((nl = data.indexOf(0x0a)) >= 0) {
          const line = data.subarray(0, nl);
          lineStart += nl + 1;
          data = data.subarray(nl + 1);
          if (line.length === 0) continue;
          const e = parseLine(line);
          if (e !== null && e !== undefined && e.seq <= this.#cursor) continue;
          if (visit(e ?? undefined, lineStart) === false) return;
        }
        carry = Buffer.from(data);
      }
    } finally {
      closeSync(fd);
    }
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

/** An event, or undefined for a line that is not one (torn by a crash, or foreign). */
function parseLine(line: Buffer): SatelliteEvent | undefined {
  try {
    const e = JSON.parse(line.toString('utf8')) as SatelliteEvent;
    return typeof e?.seq === 'number' && typeof e.type === 'string' ? e : undefined;
  } catch {
    return undefined;
  }
}
