// Why a server cannot serve a call, in words a model can act on, as a CallToolResult.
import type { JsonObject } from '../mcp/jsonrpc';
import type { GatewayUpstream } from './server-directory';

export function errorResult(text: string): JsonObject {
  return { content: [{ type: 'text', text }], isError: true };
}

/** Set when the server's status alone says it cannot serve (no attempt is worth making). */
export function permanentFailure(upstream: GatewayUpstream): string | undefined {
  if (upstream.status === 'awaiting_user_config') return upstream.snapshot?.().lastError ?? `Server '${upstream.serverSlug}' needs your configuration before it can be used.`;
  if (upstream.status !== 'permanently_failed') return undefined;
  const crashes = upstream.snapshot?.().crashCount;
  const after = crashes ? ` after ${crashes} crash${crashes === 1 ? '' : 'es'}` : '';
  return `Server '${upstream.serverSlug}' is permanently failed${after}; ask an administrator to restart it.`;
}

export function unavailableText(upstream: GatewayUpstream, err: unknown): string {
  const why = (err as Error | undefined)?.message ?? upstream.snapshot?.().lastError ?? upstream.status;
  // Only the user can fix it: the message says how, retrying will not help.
  if (upstream.status === 'requires_reauth') return why;
  return `Server '${upstream.serverSlug}' is unavailable right now (${why.replace(/\.$/, '')}). Try again in a moment; if it keeps failing, ask an administrator to check the server.`;
}
