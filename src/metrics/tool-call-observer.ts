import { performance } from 'node:perf_hooks';
import { ErrorCode, JsonRpcError } from '../mcp/jsonrpc';
import type { SessionHandlerFactory, SessionTarget } from '../mcp/session-contract';
import type { ToolCallOutcome } from './satellite-metrics';

export interface ToolCallReport {
  teamId: string;
  userId?: string;
  sessionId: string;
  /** A real server slug of the team, or `unknown`: never a client-chosen string (metric labels). */
  serverSlug: string;
  tool: string;
  seconds: number;
  outcome: ToolCallOutcome;
  arguments?: unknown;
  error?: string;
}

/**
 * Wraps the session handler factory so every tools/call, on the team endpoint and on per-server
 * endpoints alike, is timed and reported once, whichever handler serves it. `serverSlugs(teamId)`
 * bounds the server label to configured servers.
 */
export function observeToolCalls(factory: SessionHandlerFactory, serverSlugs: (teamId: string) => ReadonlySet<string>, report: (r: ToolCallReport) => void): void {
  const create = factory.create.bind(factory);
  factory.create = (target, identity, outbound) => {
    const handler = create(target, identity, outbound);
    const handleRequest = handler.handleRequest.bind(handler);
    handler.handleRequest = async (req, ctx) => {
      if (req.method !== 'tools/call') return handleRequest(req, ctx);
      const started = performance.now();
      const name = typeof req.params?.name === 'string' ? req.params.name : '';
      const { server, tool } = locate(target, name, serverSlugs);
      let outcome: ToolCallOutcome = 'ok';
      let error: string | undefined;
      try {
        const result = await handleRequest(req, ctx);
        if (result.isError === true) outcome = 'error';
        return result;
      } catch (err) {
        outcome = ctx.signal.aborted ? 'cancelled' : err instanceof JsonRpcError && err.code === ErrorCode.RequestTimeout ? 'timeout' : 'error';
        error = err instanceof Error ? err.message : String(err);
        throw err;
      } finally {
        report({
          teamId: identity.teamId,
          userId: identity.userId,
          sessionId: ctx.sessionId,
          serverSlug: server,
          tool,
          seconds: (performance.now() - started) / 1000,
          outcome,
          arguments: req.params?.arguments,
          error
        });
      }
    };
    return handler;
  };
}

// Team endpoint tools are named `<server_slug>__<tool>`; per-server endpoints pass names through.
function locate(target: SessionTarget, name: string, serverSlugs: (teamId: string) => ReadonlySet<string>): { server: string; tool: string } {
  if (target.kind === 'server') return { server: target.serverSlug, tool: name };
  const cut = name.indexOf('__');
  const slug = cut > 0 ? name.slice(0, cut) : '';
  return serverSlugs(target.teamId).has(slug) ? { server: slug, tool: name.slice(cut + 2) } : { server: 'unknown', tool: name };
}
