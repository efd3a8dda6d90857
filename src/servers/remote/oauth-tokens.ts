// Upstream OAuth access tokens of remote servers, per user and installation, fetched from the
// control plane (`POST /api/satellites/{id}/tokens/retrieve`) and kept until they expire.
// One cache per app; tokens never leave the upstream request they are made for.

export interface UpstreamTokenRef {
  installation_id: string;
  user_id: string;
  team_id: string;
}

/** The backend client's retrieveUpstreamToken: the token document, or undefined when the user has none (404). */
export type RetrieveUpstreamToken = (ref: UpstreamTokenRef) => Promise<Record<string, unknown> | undefined>;

export interface UpstreamToken {
  accessToken: string;
  /** Epoch ms after which the token is fetched again. */
  staleAt: number;
}

export interface UpstreamTokenCacheOptions {
  /** undefined when there is no control plane to ask (standalone mode). */
  retrieve(): RetrieveUpstreamToken | undefined;
  /** Longest a token is kept without asking again, whatever its expiry (the original cached 5 min). */
  maxAgeMs?: number;
  /** Tokens are renewed this long before their expires_at. */
  skewMs?: number;
  now?: () => number;
}

const key = (r: UpstreamTokenRef): string => JSON.stringify([r.installation_id, r.user_id, r.team_id]);

export class UpstreamTokenCache {
  readonly #tokens = new Map<string, UpstreamToken>();
  readonly #fetching = new Map<string, Promise<UpstreamToken | undefined>>();
  /** Retrievals made (for tests and metrics). */
  retrievals = 0;

  constructor(private readonly opts: UpstreamTokenCacheOptions) {}

  #now(): number {
    return (this.opts.now ?? Date.now)();
  }

  /** A valid token, from the cache or the control plane; undefined when the user has not authorized the server. Throws when the control plane cannot be asked. */
  async get(ref: UpstreamTokenRef): Promise<UpstreamToken | undefined> {
    const k = key(ref);
    const cached = this.#tokens.get(k);
    if (cached && this.#now() < cached.staleAt) return cached;
    let pending = this.#fetching.get(k);
    if (!pending) {
      pending = this.#fetch(ref, k).finally(() => this.#fetching.delete(k));
      this.#fetching.set(k, pending);
    }
    return pending;
  }

  /** The upstream refused the token (401): the next call asks the control plane again. */
  invalidate(ref: UpstreamTokenRef): void {
    this.#tokens.delete(key(ref));
  }

  async #fetch(ref: UpstreamTokenRef, k: string): Promise<UpstreamToken | undefined> {
    const retrieve = this.opts.retrieve();
    if (!retrieve) throw new Error('no control plane to fetch upstream OAuth tokens from (backend mode only)');
    this.retrievals++;
    const doc = await retrieve(ref);
    const access = doc?.access_token;
    if (typeof access !== 'string' || access === '') {
      this.#tokens.delete(k);
      return undefined;
    }
    const now = this.#now();
    const expires = typeof doc?.expires_at === 'string' || typeof doc?.expires_at === 'number' ? new Date(doc.expires_at).getTime() : NaN;
    const maxAge = now + (this.opts.maxAgeMs ?? 300_000);
    const staleAt = Number.isFinite(expires) ? Math.min(maxAge, expires - (this.opts.skewMs ?? 30_000)) : maxAge;
    const token = { accessToken: access, staleAt };
    this.#tokens.set(k, token);
    return token;
  }
}
