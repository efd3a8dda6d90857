// Bounded per-session record of SSE events, for GET + Last-Event-ID replay.
// Ids are `<stream>-<seq>`: seq is unique across the session's streams, the prefix names the stream.
interface Entry {
  streamNo: number;
  seq: number;
  data: string;
}

export interface EventPosition {
  streamNo: number;
  seq: number;
}

/** Bounded by event count and by size (characters of JSON): large results must not pile up for a client that never resumes. */
export class EventLog {
  #entries: Entry[] = [];
  #seq = 0;
  #chars = 0;

  /** `firstSeq`: a restored session numbers above anything its previous run could have sent. */
  constructor(private readonly max: number, private readonly maxChars = 1 << 20, readonly firstSeq = 1) {
    this.#seq = firstSeq - 1;
  }

  /** Records one event and returns its SSE id (an event larger than the size budget is sent, not kept). */
  append(streamNo: number, data: string): string {
    const seq = ++this.#seq;
    if (data.length <= this.maxChars) {
      this.#entries.push({ streamNo, seq, data });
      this.#chars += data.length;
      while (this.#entries.length > this.max || this.#chars > this.maxChars) this.#chars -= this.#entries.shift()!.data.length;
    }
    return `${streamNo}-${seq}`;
  }

  /** An id on `streamNo` for an event that is not kept (the priming event): resuming from it replays what follows. */
  mark(streamNo: number): string {
    return `${streamNo}-${++this.#seq}`;
  }

  static parse(id: string): EventPosition | undefined {
    const m = /^(\d{1,9})-(\d{1,15})$/.exec(id);
    return m ? { streamNo: Number(m[1]), seq: Number(m[2]) } : undefined;
  }

  /** Events of one stream after `seq`, in order, with their ids. */
  since(pos: EventPosition): Array<{ id: string; data: string }> {
    const out: Array<{ id: string; data: string }> = [];
    for (const e of this.#entries) {
      if (e.streamNo === pos.streamNo && e.seq > pos.seq) out.push({ id: `${e.streamNo}-${e.seq}`, data: e.data });
    }
    return out;
  }
}
