// At most `perSecond` log lines a second for one noisy source; the rest are counted and reported
// once, with the next line that gets through. A server printing garbage by the megabyte must not
// turn into a flood in the satellite's own log.
export class LogLimiter {
  #windowStart = -Infinity;
  #count = 0;
  #suppressed = 0;

  constructor(private readonly perSecond: number, private readonly now: () => number) {}

  /** Whether to log this line, and how many were suppressed since the last one that was. */
  take(): { log: boolean; suppressed: number } {
    const now = this.now();
    if (now - this.#windowStart >= 1000) {
      this.#windowStart = now;
      this.#count = 0;
    }
    if (this.#count >= this.perSecond) {
      this.#suppressed++;
      return { log: false, suppressed: 0 };
    }
    this.#count++;
    const suppressed = this.#suppressed;
    this.#suppressed = 0;
    return { log: true, suppressed };
  }
}
