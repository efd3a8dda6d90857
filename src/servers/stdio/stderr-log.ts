import { StringDecoder } from 'node:string_decoder';
import { makeRedactor, type Redactor } from './redactor';

export interface StderrLogOptions {
  /** Lines kept for status pages and crash reports. */
  maxLines: number;
  /** Longer lines are cut (a server printing a megabyte line must not fill memory). */
  maxLineLength: number;
  /** Lines accepted per second; the rest are counted as dropped. */
  linesPerSecond: number;
  /** Values that must never leave the process: the server's own environment values. */
  secrets: string[];
  now?: () => number;
}

export interface StderrLine {
  line: string;
  timestamp: number;
}

/** A bounded, rate-limited, redacted ring buffer of a server's stderr lines. */
export class StderrLog {
  #lines: StderrLine[] = [];
  #partial = '';
  #partialCut = false;
  #decoder = new StringDecoder('utf8');
  #windowStart = 0;
  #windowCount = 0;
  #dropped = 0;
  #droppedTotal = 0;
  readonly #redact: Redactor;
  readonly #now: () => number;

  constructor(private readonly opts: StderrLogOptions, private readonly onLine: (l: StderrLine) => void, private readonly onDropped: (count: number) => void = () => {}) {
    this.#redact = makeRedactor(opts.secrets);
    this.#now = opts.now ?? Date.now;
  }

  get dropped(): number {
    return this.#droppedTotal;
  }

  lines(): StderrLine[] {
    return [...this.#lines];
  }

  /** The last `n` lines as text, for error messages. */
  tail(n: number): string {
    return this.#lines.slice(-n).map((l) => l.line).join('\n');
  }

  push(chunk: Buffer): void {
    this.#take(this.#decoder.write(chunk));
  }

  /** The process is gone: a last line without newline still counts. */
  end(): void {
    this.#take(this.#decoder.end());
    if (this.#partial !== '' || this.#partialCut) this.#emit(this.#partial);
    this.#partial = '';
    this.#partialCut = false;
    this.#reportDropped();
  }

  #take(text: string): void {
    let start = 0;
    while (start < text.length) {
      const nl = text.indexOf('\n', start);
      const piece = text.slice(start, nl === -1 ? text.length : nl);
      this.#append(piece);
      if (nl === -1) return;
      this.#emit(this.#partial);
      this.#partial = '';
      this.#partialCut = false;
      start = nl + 1;
    }
  }

  // Raw text is kept a secret's length beyond the cut, so a secret straddling it is still redacted whole.
  #append(piece: string): void {
    if (this.#partialCut) return;
    const room = this.opts.maxLineLength + this.#redact.longest - this.#partial.length;
    if (piece.length > room) {
      this.#partial += piece.slice(0, Math.max(0, room));
      this.#partialCut = true;
    } else {
      this.#partial += piece;
    }
  }

  #emit(raw: string): void {
    const full = this.#redact(raw.endsWith('\r') ? raw.slice(0, -1) : raw);
    const text = full.length > this.opts.maxLineLength || this.#partialCut ? `${full.slice(0, this.opts.maxLineLength)}…` : full;
    if (text.trim() === '') return;
    const now = this.#now();
    if (now - this.#windowStart >= 1000) {
      this.#reportDropped();
      this.#windowStart = now;
      this.#windowCount = 0;
    }
    if (this.#windowCount >= this.opts.linesPerSecond) {
      this.#dropped++;
      this.#droppedTotal++;
      return;
    }
    this.#windowCount++;
    const entry = { line: text, timestamp: now };
    this.#lines.push(entry);
    if (this.#lines.length > this.opts.maxLines) this.#lines.shift();
    this.onLine(entry);
  }

  #reportDropped(): void {
    if (this.#dropped === 0) return;
    const n = this.#dropped;
    this.#dropped = 0;
    this.onDropped(n);
  }
}
