import type { VerifiedToken } from './verifier';
import { parseScopes } from './scopes';

/** An introspection answer turned into a decision: who the caller is, or why the token is refused. */
export type TokenDecision = { ok: true; token: VerifiedToken } | { ok: false; reason: string };

export interface ClaimRules {
  /** Claim naming the team (OAUTH_TEAM_CLAIM, default team_id). */
  teamClaim: string;
  /** Required audience/resource (OAUTH_AUDIENCE, RFC 8707); unchecked when undefined. */
  audience?: string;
}

const INACTIVE = 'The access token is invalid, expired or revoked';

const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : typeof v === 'number' ? String(v) : undefined);

/** Applies RFC 7662 semantics plus the satellite's rules (team claim, audience, exp/nbf) to a response. */
export function decide(claims: Record<string, unknown>, rules: ClaimRules, nowMs: number): TokenDecision {
  if (claims.active !== true) return { ok: false, reason: INACTIVE };
  const exp = typeof claims.exp === 'number' ? claims.exp * 1000 : undefined;
  if (exp !== undefined && exp <= nowMs) return { ok: false, reason: 'The access token has expired' };
  if (typeof claims.nbf === 'number' && claims.nbf * 1000 > nowMs) return { ok: false, reason: 'The access token is not valid yet' };
  if (rules.audience !== undefined) {
    const aud = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
    if (!aud.includes(rules.audience)) return { ok: false, reason: 'The access token was not issued for this resource' };
  }
  const teamId = str(claims[rules.teamClaim]);
  if (teamId === undefined) return { ok: false, reason: `The access token names no team (claim ${rules.teamClaim})` };
  return {
    ok: true,
    token: {
      identity: {
        teamId,
        userId: str(claims.user_id) ?? str(claims.sub),
        scopes: parseScopes(claims.scope),
        anonymous: false,
        clientId: str(claims.client_id)
      },
      expiresAt: exp
    }
  };
}
