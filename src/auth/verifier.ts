import type { ClientIdentity } from '../mcp/session-contract';

/** A token some verifier accepted: who it is, and until when (ms since epoch) the answer holds. */
export interface VerifiedToken {
  identity: ClientIdentity;
  expiresAt?: number;
}

/** Static tokens, RFC 7662 introspection or the DeployStack backend: one way of checking a token. */
export interface TokenVerifier {
  /** Resolves undefined when the token is not known (inactive); throws TokenRejectedError when it cannot tell. */
  verify(token: string): Promise<VerifiedToken | undefined>;
}
