import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { ClientIdentity, SessionTarget } from '../mcp/session-contract';
import { McpSession, targetKey, type ClientOrigin, type TransportKind } from './session';

export interface SessionInfo {
  sessionId: string;
  teamId: string;
  userId?: string;
  clientId?: string;
  target: SessionTarget;
  transport: TransportKind;
  protocolVersion: string;
  /** From initialize's clientInfo (undefined for a legacy stream not yet initialized). */
  clientName?: string;
  clientVersion?: string;
  userAgent?: string;
  ipAddress?: string;
}

export interface SessionEndInfo extends SessionInfo {
  reason: string;
  durationMs: number;
  requestCount: number;
  toolCallCount: number;
}

/** A live session id presented by another team or user (a stolen or replayed id): answered 404. */
export interface SessionDeniedInfo {
  sessionId: string;
  teamId: string;
  userId?: string;
  ownerTeamId: string;
  reason: 'other_team' | 'other_user';
}

export interface SessionStoreEvents {
  connect: [info: SessionInfo];
  disconnect: [info: SessionEndInfo];
  denied: [info: SessionDeniedInfo];
}

export interface SessionStoreOptions {
  idleTimeoutMs: number;
  maxSessions: number;
  maxSessionsPerTeam: number;
  replayEvents: number;
  clientRequestTimeoutMs: number;
}

/** The `denied` event for `identity` presenting a session id owned by another team or user. */
export function deniedInfo(sessionId: string, identity: ClientIdentity, ownerTeamId: string): SessionDeniedInfo {
  const reason = ownerTeamId !== identity.teamId ? 'other_team' : 'other_user';
  return { sessionId, teamId: identity.teamId, userId: identity.userId, ownerTeamId, reason };
}

/**
 * Saves sessions across restarts (src/transports/persistence/): told about sessions that finished
 * their handshake and about sessions that ended for good; asked for a saved session the store
 * does not hold. Shutdown detaches it first, so sessions closed by a shutdown stay saved.
 */
export interface SessionPersistenceHook {
  saved(session: McpSession): void;
  removed(session: McpSession, reason: string): void;
  /** Drops the saved session when it belongs to this caller and target; true when it did. */
  forget(id: string, identity: ClientIdentity, target: SessionTarget, transport: TransportKind): boolean;
  /** The saved session re-created for this caller (through `adopt`), or undefined; may throw SessionLimitError. */
  restore(id: string, identity: ClientIdentity, target: SessionTarget, transport: TransportKind, origin?: ClientOrigin): Promise<McpSession | undefined>;
}

/** Why a session cannot be created: the caller answers 503 with Retry-After. */
export class SessionLimitError extends Error {
  constructor(message: string, readonly retryAfterSeconds: number) {
    super(message);
    this.name = 'SessionLimitError';
  }
}

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

function info(s: McpSession): SessionInfo {
  return {
    sessionId: s.id, teamId: s.identity.teamId, userId: s.identity.userId, clientId: s.identity.clientId,
    target: s.target, transport: s.transport, protocolVersion: s.protocolVersion,
    clientName: str(s.clientInfo?.name), clientVersion: str(s.clientInfo?.version),
    userAgent: s.origin.userAgent, ipAddress: s.origin.ipAddress
  };
}

/** All client sessions of the satellite; owned by the transports plugin (app.sessions). */
export class SessionStore extends EventEmitter<SessionStoreEvents> {
  readonly #sessions = new Map<string, McpSession>();
  readonly #perTeam = new Map<string, number>();
  readonly #restoring = new Map<string, Promise<McpSession | undefined>>();
  persistence: SessionPersistenceHook | undefined;

  constructor(private readonly opts: SessionStoreOptions) {
    super();
  }

  get size(): number {
    return this.#sessions.size;
  }

  /** Client requests being served over all sessions (legacy SSE answers travel on the stream: shutdown waits for them). */
  get inFlight(): number {
    let n = 0;
    for (const s of this.#sessions.values()) n += s.inflight.size;
    return n;
  }

  countForTeam(teamId: string): number {
    return this.#perTeam.get(teamId) ?? 0;
  }

  /** A new session with a fresh id (32 random bytes, base64url); throws SessionLimitError past the caps. */
  create(identity: ClientIdentity, target: SessionTarget, transport: TransportKind, origin?: ClientOrigin): McpSession {
    return this.adopt(randomBytes(32).toString('base64url'), identity, target, transport, origin);
  }

  /** A session under a given id (a restored one, its event ids from `firstEventSeq` on); the same caps as `create`. */
  adopt(id: string, identity: ClientIdentity, target: SessionTarget, transport: TransportKind, origin?: ClientOrigin, firstEventSeq?: number): McpSession {
    if (this.#sessions.has(id)) throw new Error('session id already in use');
    const retryAfter = Math.min(60, Math.max(1, Math.ceil(this.opts.idleTimeoutMs / 1000)));
    if (this.#sessions.size >= this.opts.maxSessions) throw new SessionLimitError('Too many sessions on this satellite', retryAfter);
    if (this.countForTeam(identity.teamId) >= this.opts.maxSessionsPerTeam) throw new SessionLimitError('Too many sessions for this team', retryAfter);
    const session = new McpSession({
      id,
      identity,
      target,
      transport,
      replayEvents: transport === 'streamable-http' ? this.opts.replayEvents : 0,
      clientRequestTimeoutMs: this.opts.clientRequestTimeoutMs,
      origin,
      firstEventSeq
    });
    this.#sessions.set(session.id, session);
    this.#perTeam.set(identity.teamId, this.countForTeam(identity.teamId) + 1);
    return session;
  }

  /** Announces a session that completed its handshake (or opened its legacy stream). */
  announce(session: McpSession): void {
    this.persistence?.saved(session);
    this.emit('connect', info(session));
  }

  /**
   * The session with this id, only when it belongs to the same team, user, target and transport;
   * anything else looks exactly like an unknown id (404), never like someone else's session.
   */
  get(id: string, identity: ClientIdentity, target: SessionTarget, transport: TransportKind): McpSession | undefined {
    const s = this.#sessions.get(id);
    if (s === undefined || s.closed || s.transport !== transport) return undefined;
    if (s.identity.teamId !== identity.teamId || s.identity.userId !== identity.userId) {
      this.emit('denied', deniedInfo(id, identity, s.identity.teamId));
      return undefined;
    }
    if (targetKey(s.target) !== targetKey(target)) return undefined;
    return s;
  }

  /**
   * Like `get`, but a session saved by a previous run is restored first (once, however many
   * requests name it at the same time). Throws SessionLimitError when it cannot be restored yet.
   */
  async find(id: string, identity: ClientIdentity, target: SessionTarget, transport: TransportKind, origin?: ClientOrigin): Promise<McpSession | undefined> {
    const restoring = this.#restoring.get(id);
    if (restoring !== undefined) await restoring.catch(() => undefined);
    else if (!this.#sessions.has(id) && this.persistence !== undefined) {
      const p = this.persistence.restore(id, identity, target, transport, origin).finally(() => this.#restoring.delete(id));
      this.#restoring.set(id, p);
      await p;
    }
    return this.get(id, identity, target, transport);
  }

  /** Forgets a saved session not (yet) restored, when it is this caller's; true when it did. */
  forgetSaved(id: string, identity: ClientIdentity, target: SessionTarget, transport: TransportKind): boolean {
    if (this.#sessions.has(id) || this.#restoring.has(id)) return false;
    return this.persistence?.forget(id, identity, target, transport) ?? false;
  }

  /** Ends and forgets a session; `announced` sessions get a disconnect event. */
  delete(session: McpSession, reason: string): void {
    if (this.#sessions.get(session.id) !== session) return;
    this.#sessions.delete(session.id);
    const n = this.countForTeam(session.identity.teamId) - 1;
    if (n > 0) this.#perTeam.set(session.identity.teamId, n);
    else this.#perTeam.delete(session.identity.teamId);
    const wasInitialized = session.initializeDone;
    this.persistence?.removed(session, reason);
    session.close(reason);
    if (wasInitialized || session.transport === 'sse') {
      this.emit('disconnect', { ...info(session), reason, durationMs: Date.now() - session.createdAt, requestCount: session.requestCount, toolCallCount: session.toolCallCount });
    }
  }

  /** Expires idle sessions (no request and no open stream for idleTimeout); returns how many. */
  sweep(now = Date.now()): number {
    const cutoff = now - this.opts.idleTimeoutMs;
    let n = 0;
    for (const s of [...this.#sessions.values()]) {
      if (s.inflight.size > 0 || s.hasOpenStream) {
        s.touch(now);
        continue;
      }
      if (s.lastActivity <= cutoff) {
        this.delete(s, 'idle timeout');
        n++;
      }
    }
    return n;
  }

  /** Writes an SSE comment on every open stream so idle proxies keep them. */
  keepAlive(): void {
    for (const s of this.#sessions.values()) {
      s.standalone.keepAlive();
      for (const st of s.streams.values()) st.keepAlive();
    }
  }

  closeAll(reason: string): void {
    for (const s of [...this.#sessions.values()]) this.delete(s, reason);
  }
}
