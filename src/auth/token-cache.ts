import { createHash } from 'node:crypto';
import type { TokenDecision } from './claims';

export interface TokenCacheOptions {
  /** Entries kept (least recently used go first); 0 = no caching (single-flight still applies). */
  maxEntries: number;
  /** Longest an accepted token is trusted, ms; never past its exp. */
  ttlMs: number;
  /** How long a refusal is remembered, ms. */
  negativeTtlMs: number;
  now?: () => number;
}

export interface TokenCacheStats {
  hits: number;
  misses: number;
  /** Requests that joined a lookup already in flight for the same token. */
  shared: number;
  evictions: number;
  size: number;
}

interface Entry {
  decision: TokenDecision;
  expiresAt: number;
  userId?: string;
}

/**
 * Introspection results keyed by SHA-256 of the whole token (never a short hash: a collision would
 * hand one caller another's identity), LRU-bounded, expiring no later than the token itself.
 */
export class TokenCache {
  readonly #entries = new Map<string, Entry>();
  readonly #inFlight = new Map<string, Promise<TokenDecision>>();
  readonly #now: () => number;
  // Bumped by every invalidation so a lookup that started before it cannot re-insert a stale answer.
  #generation = 0;
  readonly stats: Omit<TokenCacheStats, 'size'> = { hits: 0, misses: 0, shared: 0, evictions: 0 };

  constructor(private readonly opts: TokenCacheOptions) {
    this.#now = opts.now ?? Date.now;
  }

  static key(token: string): string {
    return createHash('sha256').update(token, 'utf8').digest('hex');
  }

  snapshot(): TokenCacheStats {
    return { ...this.stats, size: this.#entries.size };
  }

  /** The cached decision, or the result of `load` shared by every concurrent caller of the same token. */
  async get(token: string, load: () => Promise<TokenDecision>): Promise<TokenDecision> {
    const key = TokenCache.key(token);
    const cached = this.#lookup(key);
    if (cached) {
      this.stats.hits++;
      return cached;
    }
    const pending = this.#inFlight.get(key);
    if (pending) {
      this.stats.shared++;
      return pending;
    }
    this.stats.misses++;
    const generation = this.#generation;
    const p = load().then((decision) => {
      if (generation === this.#generation) this.#store(key, decision);
      return decision;
    }).finally(() => this.#inFlight.delete(key));
    this.#inFlight.set(key, p);
    return p;
  }

  #lookup(key: string): TokenDecision | undefined {
    const e = this.#entries.get(key);
    if (!e) return undefined;
    if (this.#now() >= e.expiresAt) {
      this.#entries.delete(key);
      return undefined;
    }
    this.#entries.delete(key);
    this.#entries.set(key, e);
    return e.decision;
  }

  #store(key: string, decision: TokenDecision): void {
    if (this.opts.maxEntries <= 0) return;
    const now = this.#now();
    let expiresAt = now + (decision.ok ? this.opts.ttlMs : this.opts.negativeTtlMs);
    if (decision.ok && decision.token.expiresAt !== undefined) expiresAt = Math.min(expiresAt, decision.token.expiresAt);
    if (expiresAt <= now) return;
    this.#entries.delete(key);
    while (this.#entries.size >= this.opts.maxEntries) {
      const oldest = this.#entries.keys().next().value as string;
      this.#entries.delete(oldest);
      this.stats.evictions++;
    }
    this.#entries.set(key, { decision, expiresAt, userId: decision.ok ? decision.token.identity.userId : undefined });
  }

  /** Drops every cached token of one user (the backend's invalidate_user_token_cache); returns how many. */
  invalidateUser(userId: string): number {
    this.#generation++;
    let n = 0;
    for (const [key, e] of this.#entries) {
      if (e.userId === userId) {
        this.#entries.delete(key);
        n++;
      }
    }
    return n;
  }

  clear(): number {
    this.#generation++;
    const n = this.#entries.size;
    this.#entries.clear();
    return n;
  }
}
