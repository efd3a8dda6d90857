// Transport-level HTTP checks: Origin (403) and Host (DNS rebinding), Accept (406), Content-Type (415).
import type { FastifyReply, FastifyRequest } from 'fastify';
import { isLoopbackHost } from '../config/bind-guard';
import type { EnvConfig } from '../config/env';
import { ErrorCode, errorResponse } from '../mcp/jsonrpc';

export interface OriginPolicy {
  /** Origins allowed in addition to the request's own loopback host. */
  origins: Set<string>;
  /** Host headers allowed besides loopback ones (the public URL's host). */
  publicHosts: Set<string>;
  /** Bound to loopback: enforce the Host allow-list. */
  checkHost: boolean;
}

export function originPolicy(env: EnvConfig): OriginPolicy {
  const origins = new Set(env.corsOrigins);
  const publicHosts = new Set<string>();
  if (env.backend.satelliteUrl) {
    const u = new URL(env.backend.satelliteUrl);
    origins.add(u.origin);
    publicHosts.add(u.host.toLowerCase());
  }
  return { origins, publicHosts, checkHost: isLoopbackHost(env.host) };
}

function splitHost(host: string): { name: string; port: string } {
  const m = /^(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(host);
  return m ? { name: m[1]!.toLowerCase(), port: m[2] ?? '' } : { name: '', port: '' };
}

/** Host header acceptable for a loopback-bound satellite: loopback name with our port, or the public host. */
function hostAllowed(req: FastifyRequest, p: OriginPolicy): boolean {
  const host = req.headers.host;
  if (host === undefined) return false;
  if (p.publicHosts.has(host.toLowerCase())) return true;
  const { name, port } = splitHost(host);
  if (!isLoopbackHost(name)) return false;
  const localPort = String(req.socket.localPort ?? '');
  return port === localPort || (port === '' && localPort === '80');
}

/** Why a request must be refused with 403, or undefined when its Origin and Host are fine. */
export function originProblem(req: FastifyRequest, p: OriginPolicy): string | undefined {
  if (p.checkHost && !hostAllowed(req, p)) return 'Forbidden: Host header not allowed';
  const origin = req.headers.origin;
  if (origin === undefined) return undefined;
  if (p.origins.has(origin)) return undefined;
  const host = req.headers.host;
  let o: URL;
  try {
    o = new URL(origin);
  } catch {
    return 'Forbidden: invalid Origin';
  }
  if (host !== undefined && isLoopbackHost(splitHost(host).name) && o.host.toLowerCase() === host.toLowerCase()) return undefined;
  return 'Forbidden: Origin not allowed';
}

export function sendJsonRpcError(reply: FastifyReply, status: number, code: number, message: string): FastifyReply {
  return reply.code(status).type('application/json').send(errorResponse(null, code, message));
}

/** onRequest hook factory: 403 for a foreign Origin or Host. */
export function originGuard(p: OriginPolicy) {
  return async (req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined> => {
    const problem = originProblem(req, p);
    if (problem === undefined) return undefined;
    req.log.warn({ origin: req.headers.origin, host: req.headers.host }, 'refused request: foreign origin or host');
    return sendJsonRpcError(reply, 403, ErrorCode.ConnectionClosed, problem);
  };
}

// Regular expressions rather than a parsed media-type list: these run on every request.
const JSON_ACCEPT = /(?:^|[\s,])(?:application\/json|application\/\*|\*\/\*)\s*(?:[;,]|$)/i;
const SSE_ACCEPT = /(?:^|[\s,])(?:text\/event-stream|text\/\*|\*\/\*)\s*(?:[;,]|$)/i;
const JSON_CONTENT = /^\s*application\/json\s*(?:;|$)/i;

export function acceptsBoth(req: FastifyRequest): boolean {
  const accept = req.headers.accept;
  return accept !== undefined && JSON_ACCEPT.test(accept) && SSE_ACCEPT.test(accept);
}

export function acceptsEventStream(req: FastifyRequest): boolean {
  const accept = req.headers.accept;
  return accept !== undefined && SSE_ACCEPT.test(accept);
}

export function isJsonContentType(req: FastifyRequest): boolean {
  const type = req.headers['content-type'];
  return type !== undefined && JSON_CONTENT.test(type);
}
