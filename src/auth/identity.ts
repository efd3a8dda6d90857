import type { ClientIdentity } from '../mcp/session-contract';

/** True when two identities are the same caller: sessions may only be resumed by their creator. */
export function sameIdentity(a: ClientIdentity | undefined, b: ClientIdentity | undefined): boolean {
  if (!a || !b) return false;
  return a.teamId === b.teamId && (a.userId ?? null) === (b.userId ?? null) && a.anonymous === b.anonymous;
}
