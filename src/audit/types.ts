// Every security-relevant action the satellite records, with the fields each one carries.
// Fields are identifiers and outcomes only: never tokens, never argument values.

export type AuditOutcome = 'ok' | 'error' | 'timeout' | 'cancelled' | 'denied';

export interface AuditActions {
  /** `session` ids are written as a hash: a session id is a credential of its own. */
  'session.created': { team: string; user?: string; session: string; transport: string; target?: string; server?: string; ip?: string; protocolVersion?: string };
  'session.ended': { team: string; user?: string; session: string; reason: string; durationMs?: number };
  /** `arguments` is reduced to its names and a keyed hash before it is written. */
  'tool.called': { team: string; user?: string; session?: string; server: string; tool: string; durationMs: number; outcome: AuditOutcome; arguments?: unknown; error?: string };
  /** A live session id presented by another team or user: refused as unknown (404), recorded here. */
  'session.denied': { team: string; user?: string; session: string; ownerTeam: string; reason: string };
  'auth.failed': { ip?: string; method: string; route: string; status: number; reason?: string; team?: string; requestId?: string };
  'config.changed': { source: string; added: string[]; removed: string[]; changed: string[]; teamsChanged: boolean; grantsChanged: boolean };
  'command.executed': { command: string; commandId?: string; outcome: AuditOutcome; error?: string };
}

export type AuditAction = keyof AuditActions;
