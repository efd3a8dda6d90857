export interface CrashPolicyOptions {
  /** Delay before restart n (1-based) is schedule[n-1], the last entry repeating. */
  backoffMs: readonly number[];
  /** More crashes than this inside the window: permanently failed. */
  maxCrashes: number;
  windowMs: number;
}

export const DEFAULT_CRASH_POLICY: CrashPolicyOptions = { backoffMs: [1000, 5000, 15_000], maxCrashes: 3, windowMs: 5 * 60_000 };

/** Sliding-window crash counting: decides whether and when to restart. */
export class CrashPolicy {
  #crashes: number[] = [];

  constructor(private readonly opts: CrashPolicyOptions) {}

  /** Records a crash at `now`; returns the crash count in the window and the restart delay, or undefined when it must stop. */
  record(now: number): { count: number; delayMs: number | undefined } {
    this.#crashes = this.#crashes.filter((t) => now - t < this.opts.windowMs);
    this.#crashes.push(now);
    const count = this.#crashes.length;
    if (count > this.opts.maxCrashes) return { count, delayMs: undefined };
    const s = this.opts.backoffMs;
    return { count, delayMs: s[Math.min(count, s.length) - 1] ?? 0 };
  }

  get count(): number {
    return this.#crashes.length;
  }

  reset(): void {
    this.#crashes = [];
  }
}
