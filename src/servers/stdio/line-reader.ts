// Newline-delimited framing of a child's stdout with a hard cap on one line's size.

/** Splits a byte stream on '\n' (bytes, so multi-byte UTF-8 is never cut) and refuses lines above the cap. */
export class LineReader {
  #chunks: Buffer[] = [];
  #size = 0;
  #failed = false;

  constructor(
    private readonly maxLineBytes: number,
    private readonly onLine: (line: string) => void,
    private readonly onOverflow: (bytes: number) => void
  ) {}

  get failed(): boolean {
    return this.#failed;
  }

  push(chunk: Buffer): void {
    if (this.#failed) return;
    let start = 0;
    while (start < chunk.length) {
      const nl = chunk.indexOf(0x0a, start);
      const piece = chunk.subarray(start, nl === -1 ? chunk.length : nl);
      if (this.#size + piece.length > this.maxLineBytes) {
        this.#fail(this.#size + piece.length);
        return;
      }
      if (nl === -1) {
        this.#chunks.push(piece);
        this.#size += piece.length;
        return;
      }
      const line = this.#size === 0 ? piece : Buffer.concat([...this.#chunks, piece]);
      this.#chunks = [];
      this.#size = 0;
      start = nl + 1;
      const text = line.toString('utf8');
      const trimmed = text.endsWith('\r') ? text.slice(0, -1) : text;
      if (trimmed.trim() !== '') this.onLine(trimmed);
    }
  }

  #fail(bytes: number): void {
    this.#failed = true;
    this.#chunks = [];
    this.#size = 0;
    this.onOverflow(bytes);
  }
}
