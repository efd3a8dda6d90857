// A minimal text/event-stream parser (WHATWG HTML §9.2): enough for MCP, which sends
// `event`, `data` and `id` fields; `retry` is kept for reconnect delays.
export interface SseEvent {
  event: string;
  data: string;
  id?: string;
}

export class SseParser {
  #buffer = '';
  #data: string[] = [];
  #event = '';
  #id: string | undefined;
  #decoder = new TextDecoder();
  /** The last `id` seen (for Last-Event-ID on reconnect). */
  lastEventId: string | undefined;
  retryMs: number | undefined;

  /** maxEventBytes bounds one line and one event: a server that never ends one cannot fill memory. */
  constructor(private readonly onEvent: (e: SseEvent) => void, private readonly maxEventBytes = 64 * 1024 * 1024) {}

  #size = 0;

  push(chunk: Uint8Array | string): void {
    this.#buffer += typeof chunk === 'string' ? chunk : this.#decoder.decode(chunk, { stream: true });
    if (this.#buffer.length + this.#size > this.maxEventBytes) throw new Error(`event larger than ${this.maxEventBytes} bytes`);
    let nl: number;
    while ((nl = this.#buffer.search(/\r\n|\r|\n/)) >= 0) {
      const line = this.#buffer.slice(0, nl);
      // A lone \r at the end may be half of \r\n: wait for more input.
      if (this.#buffer[nl] === '\r' && nl === this.#buffer.length - 1) break;
      this.#buffer = this.#buffer.slice(nl + (this.#buffer.startsWith('\r\n', nl) ? 2 : 1));
      this.#line(line);
    }
  }

  #line(line: string): void {
    if (line === '') return this.#dispatch();
    if (line.startsWith(':')) return;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'data') {
      this.#data.push(value);
      this.#size += value.length;
    }
    else if (field === 'event') this.#event = value;
    else if (field === 'id' && !value.includes('\0')) this.#id = value;
    else if (field === 'retry' && /^\d+$/.test(value)) this.retryMs = Number(value);
  }

  #dispatch(): void {
    if (this.#id !== undefined) this.lastEventId = this.#id;
    if (this.#data.length > 0) {
      const e: SseEvent = { event: this.#event || 'message', data: this.#data.join('\n') };
      if (this.#id !== undefined) e.id = this.#id;
      this.onEvent(e);
    }
    this.#data = [];
    this.#size = 0;
    this.#event = '';
    this.#id = undefined;
  }
}
