// A request's timeout that progress pushes out (MCP: timeouts MAY reset on progress notifications)
// but never past a hard maximum (SHOULD keep one, so a server reporting progress forever is still cut off).

/** How far progress may push a call's deadline when nothing says otherwise: this many request timeouts. */
export const DEFAULT_MAX_TIMEOUT_FACTOR = 10;

export class CallDeadline {
  #timer: NodeJS.Timeout;
  readonly #hardEnd: number;

  /** `onExpire` runs once when the deadline passes; `maxMs` counts from now (at least `timeoutMs`). */
  constructor(private readonly timeoutMs: number, maxMs: number | undefined, private readonly onExpire: () => void) {
    this.#hardEnd = Date.now() + Math.max(timeoutMs, maxMs ?? timeoutMs * DEFAULT_MAX_TIMEOUT_FACTOR);
    this.#timer = setTimeout(onExpire, timeoutMs);
  }

  /** Progress arrived: the call gets another full timeout, bounded by the maximum. */
  extend(): void {
    const left = Math.min(this.timeoutMs, this.#hardEnd - Date.now());
    if (left <= 0) return;
    clearTimeout(this.#timer);
    this.#timer = setTimeout(this.onExpire, left);
  }

  clear(): void {
    clearTimeout(this.#timer);
  }
}
