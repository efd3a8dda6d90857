import type { FastifyReply, FastifyRequest } from 'fastify';
import { isListenStream } from '../transports/modern/protocol';

export interface TeamLimitOptions {
  /** In-flight requests per team; 0 = unlimited. */
  maxConcurrent: number;
  /** Sustained requests per second per team; 0 = unlimited. */
  rps: number;
  burst: number;
}

interface Bucket {
  tokens: number;
  updatedAt: number;
}

export interface LimitRefusal {
  message: string;
  retryAfterSeconds: number;
}

// Beyond this many teams, buckets that have refilled completely are forgotten (they carry no state).
const PRUNE_AT = 10_000;

/** Per-team token bucket (requests per second) and in-flight counter, kept by the auth plugin. */
export class TeamLimits {
  readonly #buckets = new Map<string, Bucket>();
  readonly #inFlight = new Map<string, number>();
  rejected = 0;

  constructor(private readonly opts: TeamLimitOptions, private readonly now: () => number = Date.now) {}

  inFlight(teamId: string): number {
    return this.#inFlight.get(teamId) ?? 0;
  }

  /**
   * Admits one request of the team or says why not. An admitted request holds a concurrency slot until
   * its response closes; long-lived SSE streams (GET, 2026-07-28 subscriptions/listen) are exempt,
   * sessions and listen streams are capped elsewhere.
   */
  admit(teamId: string, request: FastifyRequest, reply: FastifyReply): LimitRefusal | undefined {
    const holdsSlot = this.opts.maxConcurrent > 0 && request.method !== 'GET' && !isListenStream(request);
    if (holdsSlot && this.inFlight(teamId) >= this.opts.maxConcurrent) {
      this.rejected++;
      return { message: `Too many concurrent requests for this team (limit ${this.opts.maxConcurrent})`, retryAfterSeconds: 1 };
    }
    const wait = this.#take(teamId);
    if (wait > 0) {
      this.rejected++;
      return { message: `Rate limit exceeded for this team (${this.opts.rps} requests per second)`, retryAfterSeconds: Math.max(1, Math.ceil(wait)) };
    }
    if (holdsSlot) this.#hold(teamId, reply);
    return undefined;
  }

  /** Takes one token; returns 0 when taken, else the seconds until one is available. */
  #take(teamId: string): number {
    if (this.opts.rps <= 0) return 0;
    const now = this.now();
    let b = this.#buckets.get(teamId);
    if (!b) {
      if (this.#buckets.size >= PRUNE_AT) this.#prune(now);
      b = { tokens: this.opts.burst, updatedAt: now };
      this.#buckets.set(teamId, b);
    }
    b.tokens = Math.min(this.opts.burst, b.tokens + ((now - b.updatedAt) / 1000) * this.opts.rps);
    b.updatedAt = now;
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return 0;
    }
    return (1 - b.tokens) / this.opts.rps;
  }

  #prune(now: number): void {
    for (const [team, b] of this.#buckets) {
      if (b.tokens + ((now - b.updatedAt) / 1000) * this.opts.rps >= this.opts.burst) this.#buckets.delete(team);
    }
  }

  #hold(teamId: string, reply: FastifyReply): void {
    this.#inFlight.set(teamId, this.inFlight(teamId) + 1);
    let released = false;
    // 'close' fires both after a complete response and when the client goes away mid-request.
    reply.raw.once('close', () => {
      if (released) return;
      released = true;
      const n = this.inFlight(teamId) - 1;
      if (n <= 0) this.#inFlight.delete(teamId);
      else this.#inFlight.set(teamId, n);
    });
  }
}
