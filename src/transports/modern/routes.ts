// Wiring of the 2026-07-28 era into the Streamable HTTP route group: which requests are modern,
// header-based authorization before the body is read, 405 for modern GET/DELETE, shutdown.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AuthError } from '../../auth/errors';
import { TeamLimits } from '../../auth/team-limits';
import { MrtrStore } from '../../gateway/mrtr-store';
import { ErrorCode } from '../../mcp/jsonrpc';
import type { SessionTarget } from '../../mcp/session-contract';
import { parseBody } from '../body';
import { identityOf, type TransportDeps } from '../deps';
import { acceptsBoth, isJsonContentType, sendJsonRpcError } from '../http-guards';
import type { ModernDeps } from './deps';
import { decodeHeaderValue } from './headers';
import { ListenStreams } from './listen';
import { ParamHeaderCache } from './param-headers';
import { handleModernPost } from './post';
import { header, isModernMessage, isModernStreamRequest } from './protocol';
import { sendModernError } from './response';

/** Parked input_required calls at once, over all teams and per team. */
const MAX_PARKED = 1000;
const MAX_PARKED_PER_TEAM = 100;

export function modernContext(app: FastifyInstance, deps: TransportDeps): ModernDeps {
  const modern: ModernDeps = {
    ...deps,
    // A parked call holds a backend request open: it may wait as long as a backend request may.
    parked: new MrtrStore({ maxParked: MAX_PARKED, maxParkedPerTeam: MAX_PARKED_PER_TEAM, ttlMs: app.satellite.env.process.requestTimeoutMs }),
    listens: new ListenStreams(app.satellite.env.sessions.maxSessionsPerTeam, app.satellite.env.sessions.keepAliveSeconds * 1000),
    paramHeaders: new ParamHeaderCache()
  };
  app.addHook('preClose', async () => {
    modern.listens.closeAll();
    modern.parked.closeAll('shutdown');
  });
  return modern;
}

/**
 * preParsing: a modern request names its method (and tool) in headers, so the scope check and the
 * per-tool rate limit (with any refusal) happen before the body is read; the body must then match
 * the headers (-32020). The per-team limit already ran with authentication (onRequest).
 */
export function headerGate(app: FastifyInstance, deps: TransportDeps) {
  const { rps, burst } = app.satellite.env.toolLimits;
  // The team bucket logic keyed by team and tool; no concurrency cap here (maxConcurrent 0).
  const toolLimits = rps > 0 ? new TeamLimits({ maxConcurrent: 0, rps, burst }) : undefined;
  return async (req: FastifyRequest, reply: FastifyReply): Promise<void> => {
    const method = header(req, 'mcp-method');
    if (method === undefined || header(req, 'mcp-session-id') !== undefined || req.method !== 'POST') return;
    let decoded: string;
    let tool: string | undefined;
    try {
      decoded = decodeHeaderValue(method);
      const name = header(req, 'mcp-name');
      tool = decoded === 'tools/call' && name !== undefined ? decodeHeaderValue(name) : undefined;
    } catch (e) {
      sendModernError(reply, null, e, 400);
      return;
    }
    try {
      deps.authorize(req, decoded);
    } catch (e) {
      if (!(e instanceof AuthError)) throw e;
      deps.sendAuthError(reply, e, null);
      return;
    }
    if (toolLimits === undefined || tool === undefined) return;
    const refused = toolLimits.admit(`${identityOf(req).teamId}\u0000${tool}`, req, reply);
    if (refused === undefined) return;
    req.log.info({ teamId: identityOf(req).teamId, tool }, 'MCP tool call refused: per-tool rate limit');
    sendJsonRpcError(reply.header('retry-after', String(refused.retryAfterSeconds)), 429, ErrorCode.ConnectionClosed,
      `Rate limit exceeded for tool ${tool} (${rps} calls per second per team)`);
  };
}

/** Serves the POST when it is a modern one; undefined when the 2025 rules apply. */
export function modernPost(deps: ModernDeps, req: FastifyRequest, reply: FastifyReply, target: SessionTarget): Promise<FastifyReply> | undefined {
  // A session without Mcp-Method is a 2025 client's: no second parse of its body.
  if ((header(req, 'mcp-session-id') !== undefined && header(req, 'mcp-method') === undefined) || !acceptsBoth(req) || !isJsonContentType(req)) return undefined;
  const parsed = parseBody(req.body);
  if (!parsed.ok || parsed.batch || !isModernMessage(req, parsed.messages[0]!.msg)) return undefined;
  return handleModernPost(deps, req, reply, target, parsed);
}

/** GET and DELETE do not exist for modern clients. */
export function modernStreamRefusal(req: FastifyRequest, reply: FastifyReply): FastifyReply | undefined {
  if (!isModernStreamRequest(req)) return undefined;
  return sendJsonRpcError(reply.header('allow', 'POST'), 405, ErrorCode.ConnectionClosed, 'Method Not Allowed: 2026-07-28 clients only POST');
}
