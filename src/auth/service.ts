import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { StandaloneConfig } from '../config/standalone';
import { isLoopbackHost } from '../config/bind-guard';
import type { ClientIdentity } from '../mcp/session-contract';
import { ConfigError } from '../config/config-error';
import type { EnvConfig } from '../config/env';
import { VERSION } from '../version';
import { decide, type TokenDecision } from './claims';
import { TokenRejectedError, type AuthFailureKind } from './errors';
import { Introspector, type ApiKeyProvider } from './introspection';
import { isDirectLoopbackRequest } from './loopback';
import { SUPPORTED_SCOPES } from './scopes';
import { StaticTokens } from './static-tokens';
import { TeamLimits } from './team-limits';
import { TokenCache, type TokenCacheStats } from './token-cache';

export interface AuthServiceOptions {
  /** Overrides the clock (tests). */
  now?: () => number;
  /** Backend mode: the satellite's API key for DeployStack introspection (else set later with useBackendApiKey). */
  backendApiKey?: ApiKeyProvider;
}

export interface AuthStats {
  cache: TokenCacheStats;
  introspection: { calls: number; failures: number };
  rateLimited: number;
}

/** Which introspection endpoint to use: an explicit OAUTH_INTROSPECTION_URL wins over the backend's. */
function introspector(env: EnvConfig, apiKey: ApiKeyProvider): Introspector | undefined {
  const common = { timeoutMs: env.oauth.introspectionTimeoutMs, userAgent: `satellite/${VERSION}` };
  const { introspectionUrl, clientId, clientSecret } = env.oauth;
  if (introspectionUrl) {
    if (!clientId || !clientSecret) throw new ConfigError('OAUTH_INTROSPECTION_URL needs OAUTH_CLIENT_ID and OAUTH_CLIENT_SECRET (client_secret_basic)');
    return new Introspector({ ...common, url: introspectionUrl, auth: { kind: 'client_secret_basic', clientId, clientSecret } });
  }
  if (env.backend.url) return new Introspector({ ...common, url: `${env.backend.url}/api/oauth2/introspect`, auth: { kind: 'api_key', apiKey } });
  return undefined;
}

/** Decides who a caller is: static tokens, introspection, loopback anonymous access; plus per-team limits. */
export class AuthService {
  readonly limits: TeamLimits;
  readonly cache: TokenCache;
  readonly #introspector: Introspector | undefined;
  readonly #now: () => number;
  #apiKey: ApiKeyProvider | undefined;
  #static: StaticTokens;
  readonly #onConfig = (next: StandaloneConfig): void => {
    this.#static = this.#loadStatic(next);
  };

  constructor(private readonly app: FastifyInstance, opts: AuthServiceOptions = {}) {
    const env = app.satellite.env;
    const now = opts.now ?? Date.now;
    this.#now = now;
    this.limits = new TeamLimits(env.teamLimits, now);
    this.#apiKey = opts.backendApiKey;
    this.#introspector = introspector(env, () => this.#apiKey?.());
    this.cache = new TokenCache({
      maxEntries: env.oauth.cacheSize,
      ttlMs: env.oauth.cacheTtlSeconds * 1000,
      negativeTtlMs: env.oauth.negativeCacheTtlSeconds * 1000,
      now
    });
    this.#static = this.#loadStatic(app.configStore.current);
    app.configStore.on('change', this.#onConfig);
  }

  #loadStatic(cfg: StandaloneConfig): StaticTokens {
    const tokens = new StaticTokens(cfg.tokens);
    for (const key of tokens.invalidKeys) this.app.log.warn({ key }, 'ignoring static token key: sha256: must be followed by 64 hex digits');
    return tokens;
  }

  /** Resolves the identity of a bearer token or throws TokenRejectedError. */
  async verify(token: string): Promise<ClientIdentity> {
    const grant = this.#static.lookup(token);
    if (grant) {
      return { teamId: grant.team_id, userId: grant.user_id, scopes: grant.scopes ?? [...SUPPORTED_SCOPES], anonymous: false };
    }
    const introspector = this.#introspector;
    if (!introspector) throw new TokenRejectedError('invalid_token', 'The access token is invalid, expired or revoked');
    const decision = await this.cache.get(token, async (): Promise<TokenDecision> => decide(await introspector.introspect(token), this.#rules(), this.#now()));
    if (!decision.ok) throw new TokenRejectedError('invalid_token', decision.reason);
    // The cache never outlives exp, but a token may expire between two cache checks.
    if (decision.token.expiresAt !== undefined && decision.token.expiresAt <= this.#now()) throw new TokenRejectedError('invalid_token', 'The access token has expired');
    return decision.token.identity;
  }

  #rules(): { teamClaim: string; audience?: string } {
    return { teamClaim: this.app.satellite.env.oauth.teamClaim, audience: this.app.satellite.env.oauth.audience };
  }

  /** Backend mode: where the DeployStack introspection call gets the satellite's current API key. */
  useBackendApiKey(provider: ApiKeyProvider): void {
    this.#apiKey = provider;
  }

  /** True when bearer tokens can be checked by introspection (OAUTH_INTROSPECTION_URL or backend mode). */
  get introspectionEnabled(): boolean {
    return this.#introspector !== undefined;
  }

  /** The backend's invalidate_user_token_cache command: drops that user's cached tokens, returns how many. */
  invalidateUser(userId: string): number {
    return this.cache.invalidateUser(userId);
  }

  stats(): AuthStats {
    return {
      cache: this.cache.snapshot(),
      introspection: { calls: this.#introspector?.calls ?? 0, failures: this.#introspector?.failures ?? 0 },
      rateLimited: this.limits.rejected
    };
  }

  /**
   * The config's anonymous grant, only for a loopback peer of a loopback-bound server, and never
   * for proxied requests (a local reverse proxy would otherwise make every remote caller "loopback").
   */
  anonymousIdentity(request: FastifyRequest): ClientIdentity | undefined {
    const grant = this.app.configStore.current.anonymous;
    if (!grant) return undefined;
    if (!isLoopbackHost(this.app.satellite.env.host)) return undefined;
    if (!isDirectLoopbackRequest(request)) return undefined;
    return { teamId: grant.team_id, userId: grant.user_id, scopes: [...SUPPORTED_SCOPES], anonymous: true };
  }

  /**
   * Audits refusals the audit plugin's own onResponse hook does not see as auth failures (it records
   * every 401/403 itself): 429 rate limits and 503 introspection outages.
   */
  recordFailure(request: FastifyRequest, reason: AuthFailureKind, status: number, teamId?: string): void {
    if (status === 401 || status === 403 || !this.app.hasDecorator('audit')) return;
    this.app.audit.record('auth.failed', {
      ip: request.ip,
      method: request.method,
      route: request.routeOptions.url ?? 'unmatched',
      status,
      reason,
      team: teamId,
      requestId: request.id
    });
  }

  async close(): Promise<void> {
    this.app.configStore.off('change', this.#onConfig);
    await this.#introspector?.close();
  }
}
