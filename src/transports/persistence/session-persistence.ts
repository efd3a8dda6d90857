// Keeps the Streamable HTTP sessions in a local journal so a restarted satellite serves them on:
// a request with a saved session id re-creates the session (handler, log level, subscriptions)
// without a new initialize from the client. Legacy SSE sessions end with their stream and are
// never saved; replay logs are not saved either (a stream cut by the restart cannot be resumed).
import type { FastifyBaseLogger } from 'fastify';
import { ErrorCode, JsonRpcError, type JsonObject, type JsonRpcRequest } from '../../mcp/jsonrpc';
import type { ClientIdentity, McpSessionHandler, RequestContext, SessionHandlerFactory, SessionTarget } from '../../mcp/session-contract';
import { targetKey, type ClientOrigin, type McpSession, type TransportKind } from '../session';
import { deniedInfo, type SessionPersistenceHook, type SessionStore } from '../session-store';
import { hashSessionId, LIMITS, type SessionRecord } from './record';
import type { SessionJournal } from './session-journal';

export interface SessionPersistenceOptions {
  journal: SessionJournal;
  store: SessionStore;
  /** Looked up when a session is restored (the factory may be registered after the store). */
  handlers(): SessionHandlerFactory | undefined;
  idleTimeoutMs: number;
  /** Bounds re-applying the log level and subscriptions of a restored session. */
  replayTimeoutMs: number;
  /** How often last-activity times are written (they are the only per-request change). */
  activityFlushMs: number;
  log: FastifyBaseLogger;
}

/** The requests whose effect outlives them and is therefore saved and replayed. */
const REMEMBERED = new Set(['logging/setLevel', 'resources/subscribe', 'resources/unsubscribe']);

export class SessionPersistence implements SessionPersistenceHook {
  readonly #live = new Map<McpSession, SessionRecord>();
  readonly #touchEveryMs: number;
  #timer: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(private readonly opts: SessionPersistenceOptions) {
    // Activity is saved coarsely (a tenth of the idle timeout, at most a minute): expiry after a
    // crash may come that much early, and the journal does not grow with every request.
    this.#touchEveryMs = Math.min(60_000, Math.ceil(opts.idleTimeoutMs / 10));
  }

  start(): void {
    this.#timer = setInterval(() => this.flushActivity(Date.now()), this.opts.activityFlushMs);
    this.#timer.unref();
  }

  /** Saves every last-activity time now and stops; sessions closed afterwards (shutdown) stay saved. */
  close(): void {
    if (this.#closed) return;
    clearInterval(this.#timer);
    this.flushActivity(Date.now(), true);
    this.#closed = true;
    this.opts.journal.close();
  }

  saved(session: McpSession): void {
    if (this.#closed || session.transport !== 'streamable-http' || this.#live.has(session)) return;
    const hash = hashSessionId(session.id);
    const before = this.opts.journal.get(hash); // set when this session was just restored
    const rec: SessionRecord = {
      hash,
      teamId: session.identity.teamId,
      userId: session.identity.userId,
      target: session.target,
      protocolVersion: session.protocolVersion,
      clientCapabilities: session.clientCapabilities,
      clientInfo: session.clientInfo,
      logLevel: before?.logLevel,
      subscriptions: before?.subscriptions ?? [],
      createdAt: before?.createdAt ?? session.createdAt,
      lastActivity: session.lastActivity
    };
    if (JSON.stringify(rec).length > LIMITS.recordChars) {
      this.opts.log.debug({ teamId: rec.teamId }, 'MCP session too large to save; it will not survive a restart');
      return;
    }
    this.#live.set(session, rec);
    this.opts.journal.put(rec);
    if (session.handler !== undefined) session.handler = this.#observed(session.handler, rec);
  }

  removed(session: McpSession): void {
    const rec = this.#live.get(session);
    if (rec === undefined) return;
    this.#live.delete(session);
    if (!this.#closed) this.opts.journal.delete(rec.hash);
  }

  /** Writes last-activity times that moved on; forgets saved sessions that expired while not in memory. */
  flushActivity(now: number, all = false): void {
    if (this.#closed) return;
    const j = this.opts.journal;
    for (const [s, rec] of this.#live) {
      if (s.lastActivity - rec.lastActivity >= (all ? 1 : this.#touchEveryMs)) j.touch(rec.hash, s.lastActivity);
    }
    const live = new Set([...this.#live.values()].map((r) => r.hash));
    for (const r of [...j.records()]) if (!live.has(r.hash) && this.#expired(r, now)) j.delete(r.hash);
    j.flush();
  }

  forget(id: string, identity: ClientIdentity, target: SessionTarget, transport: TransportKind): boolean {
    const rec = this.#saved(id, identity, target, transport, false);
    if (rec === undefined) return false;
    this.opts.journal.delete(rec.hash);
    return !this.#expired(rec, Date.now()); // an expired one is unknown: 404
  }

  async restore(id: string, identity: ClientIdentity, target: SessionTarget, transport: TransportKind, origin?: ClientOrigin): Promise<McpSession | undefined> {
    const rec = this.#saved(id, identity, target, transport, true);
    if (rec === undefined) return undefined;
    const { journal, store, log } = this.opts;
    if (this.#expired(rec, Date.now())) {
      journal.delete(rec.hash);
      return undefined;
    }
    const handlers = this.opts.handlers();
    if (handlers === undefined || !handlers.exists(rec.target, identity)) return undefined;
    // Event ids of this run start above the previous run's, so a GET resumed across the restart gets what is new.
    const session = store.adopt(id, identity, rec.target, transport, origin, Date.now() * 100);
    session.protocolVersion = rec.protocolVersion;
    session.clientCapabilities = rec.clientCapabilities;
    session.clientInfo = rec.clientInfo;
    try {
      session.handler = handlers.create(rec.target, identity, session.outbound);
      // The satellite's own stand-in for the client's initialize; upstreams start as they would for it.
      await session.handler.initialize({ protocolVersion: rec.protocolVersion, capabilities: rec.clientCapabilities, clientInfo: rec.clientInfo });
    } catch (err) {
      log.warn({ teamId: rec.teamId, target: rec.target, err: (err as Error).message }, 'a saved MCP session could not be restored');
      store.delete(session, 'restore failed');
      journal.delete(rec.hash);
      return undefined;
    }
    session.initializeDone = true;
    session.initialized = true;
    await this.#replay(session, rec);
    if (session.closed) return undefined;
    store.announce(session);
    log.info({ teamId: rec.teamId, target: rec.target, logLevel: rec.logLevel, subscriptions: rec.subscriptions.length }, 'MCP session restored after a restart');
    return session;
  }

  /** The saved record of this id for exactly this caller and target; another principal learns nothing, and the record stays. */
  #saved(id: string, identity: ClientIdentity, target: SessionTarget, transport: TransportKind, reportDenied: boolean): SessionRecord | undefined {
    if (this.#closed || transport !== 'streamable-http') return undefined;
    const rec = this.opts.journal.get(hashSessionId(id));
    if (rec === undefined) return undefined;
    if (rec.teamId !== identity.teamId || rec.userId !== identity.userId) {
      if (reportDenied) this.opts.store.emit('denied', deniedInfo(id, identity, rec.teamId));
      return undefined;
    }
    return targetKey(rec.target) === targetKey(target) ? rec : undefined;
  }

  #expired(r: SessionRecord, now: number): boolean {
    return r.lastActivity + this.opts.idleTimeoutMs <= now;
  }

  /** Re-applies the log level and subscriptions; what fails (a resource that is gone) is dropped. */
  async #replay(session: McpSession, rec: SessionRecord): Promise<void> {
    const handler = session.handler!;
    const ctx = replayContext(session, AbortSignal.timeout(this.opts.replayTimeoutMs));
    const call = (method: string, params: JsonObject, n: number) =>
      handler.handleRequest({ jsonrpc: '2.0', id: `restore-${n}`, method, params }, ctx);
    if (rec.logLevel !== undefined) {
      await call('logging/setLevel', { level: rec.logLevel }, 0).catch((err: Error) => {
        this.opts.log.debug({ err: err.message }, 'restored session: log level not re-applied');
        rec.logLevel = undefined;
      });
    }
    const results = await Promise.allSettled(rec.subscriptions.map((uri, i) => call('resources/subscribe', { uri }, i + 1)));
    const kept = rec.subscriptions.filter((_, i) => results[i]!.status === 'fulfilled');
    if (kept.length < rec.subscriptions.length) this.opts.log.debug({ dropped: rec.subscriptions.length - kept.length }, 'restored session: some subscriptions not re-made');
    rec.subscriptions = kept;
  }

  /** The handler, with the requests whose effect lasts recorded once they succeed. */
  #observed(inner: McpSessionHandler, rec: SessionRecord): McpSessionHandler {
    return {
      initialize: (client) => inner.initialize(client),
      handleNotification: (n) => inner.handleNotification(n),
      close: (reason) => inner.close(reason),
      handleRequest: async (req, ctx) => {
        const result = await inner.handleRequest(req, ctx);
        if (REMEMBERED.has(req.method)) this.#remember(rec, req);
        return result;
      }
    };
  }

  #remember(rec: SessionRecord, req: JsonRpcRequest): void {
    if (this.#closed || this.opts.journal.get(rec.hash) !== rec) return; // ended meanwhile
    const p = req.params ?? {};
    if (req.method === 'logging/setLevel') {
      rec.logLevel = String(p.level);
    } else {
      const uri = p.uri;
      if (typeof uri !== 'string' || uri.length > LIMITS.uriChars) return;
      const subs = rec.subscriptions.filter((u) => u !== uri);
      if (req.method === 'resources/subscribe') {
        if (subs.length >= LIMITS.subscriptions || subs.reduce((n, u) => n + u.length, uri.length) > LIMITS.subscriptionChars) return;
        subs.push(uri);
      }
      rec.subscriptions = subs;
    }
    this.opts.journal.put(rec);
  }
}

/** What a replayed request may do towards the client: nothing (there is no client request to relate to). */
function replayContext(session: McpSession, signal: AbortSignal): RequestContext {
  return {
    sessionId: session.id,
    identity: session.identity,
    signal,
    sendNotification: () => undefined,
    sendRequest: () => Promise.reject(new JsonRpcError(ErrorCode.InternalError, 'No client request to relate to while restoring a session'))
  };
}
