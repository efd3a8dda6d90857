import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { StandaloneConfig } from '../config/standalone';
import { isLoopbackHost } from '../config/bind-guard';
import type { ClientIdentity } from '../mcp/session-contract';
import { TokenRejectedError, type AuthFailureKind } from './errors';
import { isLoopbackAddress } from './loopback';
import { SUPPORTED_SCOPES } from './scopes';
import { StaticTokens } from './static-tokens';
import { TeamLimits } from './team-limits';

export interface AuthServiceOptions {
  /** Overrides the clock (tests). */
  now?: () => number;
}

/** Decides who a caller is: static tokens, introspection, loopback anonymous access; plus per-team limits. */
export class AuthService {
  readonly limits: TeamLimits;
  #static: StaticTokens;
  readonly #onConfig = (next: StandaloneConfig): void => {
    this.#static = this.#loadStatic(next);
  };

  constructor(private readonly app: FastifyInstance, opts: AuthServiceOptions = {}) {
    const env = app.satellite.env;
    const now = opts.now ?? Date.now;
    this.limits = new TeamLimits(env.teamLimits, now);
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
    throw new TokenRejectedError('invalid_token', 'The access token is invalid, expired or revoked');
  }

  /**
   * The config's anonymous grant, only for a loopback peer of a loopback-bound server, and never
   * for proxied requests (a local reverse proxy would otherwise make every remote caller "loopback").
   */
  anonymousIdentity(request: FastifyRequest): ClientIdentity | undefined {
    const grant = this.app.configStore.current.anonymous;
    if (!grant) return undefined;
    if (!isLoopbackHost(this.app.satellite.env.host)) return undefined;
    if (!isLoopbackAddress(request.socket.remoteAddress)) return undefined;
    if (request.headers['x-forwarded-for'] !== undefined || request.headers.forwarded !== undefined) return undefined;
    return { teamId: grant.team_id, userId: grant.user_id, scopes: [...SUPPORTED_SCOPES], anonymous: true };
  }

  /** Reports an authentication failure to the audit trail when the ops plugin provides one. */
  recordFailure(request: FastifyRequest, reason: AuthFailureKind, tokenPresented: boolean): void {
    const app = this.app as FastifyInstance & { audit?: { record: (e: Record<string, unknown>) => unknown } };
    if (!app.hasDecorator('audit') || typeof app.audit?.record !== 'function') return;
    try {
      app.audit.record({
        type: 'auth.failed',
        reason,
        tokenPresented,
        teamId: request.identity?.teamId,
        userId: request.identity?.userId,
        ip: request.ip,
        method: request.method,
        path: request.url.split('?')[0]
      });
    } catch (err) {
      request.log.warn({ err }, 'audit record failed');
    }
  }

  close(): void {
    this.app.configStore.off('change', this.#onConfig);
  }
}
