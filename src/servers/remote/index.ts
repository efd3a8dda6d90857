// Factory the ServerRegistry calls for `transport_type` http and sse.
import type { McpServerConfig } from '../../config/server-config';
import type { ServerEventEmitter } from '../events';
import type { UpstreamFactory } from '../managed';
import { VERSION } from '../../version';
import { HttpEndpoint } from './http-endpoint';
import { oauthEndpointAuth } from './oauth-auth';
import type { UpstreamTokenCache } from './oauth-tokens';
import { RemoteUpstream, type Log } from './remote-upstream';
import { LegacySseConnection } from './sse-connection';
import { StreamableConnection } from './streamable-connection';

export { RemoteUpstream } from './remote-upstream';

export interface RemoteUpstreamDeps {
  log: Log;
  /** MCP_REQUEST_TIMEOUT_MS; the server's own `timeout` wins. */
  defaultTimeoutMs: number;
  /** MCP_REQUEST_MAX_TIMEOUT_MS: how far progress may push a call's deadline (default 10x its timeout). */
  maxTimeoutMs?: number;
  events?: ServerEventEmitter;
  /** Per-user upstream OAuth tokens for `requires_oauth` entries. */
  upstreamTokens?: UpstreamTokenCache;
}

/** The ServerRegistry's `remoteFactory`: `remoteUpstreamFactory(env.process.requestTimeoutMs)`. */
export function remoteUpstreamFactory(defaultTimeoutMs: number, maxTimeoutMs?: number): UpstreamFactory {
  return (config, ctx) => createRemoteUpstream(config, { log: ctx.log, events: ctx.events, defaultTimeoutMs, ...(maxTimeoutMs !== undefined ? { maxTimeoutMs } : {}),
    ...(ctx.upstreamTokens ? { upstreamTokens: ctx.upstreamTokens } : {}) });
}

export function createRemoteUpstream(config: McpServerConfig, deps: RemoteUpstreamDeps): RemoteUpstream {
  if (config.transport_type === 'stdio' || !config.url) throw new Error(`server ${config.server_slug} is not a remote server`);
  let auth;
  if (config.requires_oauth) {
    if (!deps.upstreamTokens) throw new Error(`server ${config.server_slug} requires OAuth but no upstream token source is configured`);
    auth = oauthEndpointAuth(config, deps.upstreamTokens);
  }
  const http = new HttpEndpoint(config, `satellite/${VERSION}`, auth);
  const options = {
    config,
    ...(deps.events ? { events: deps.events } : {}),
    timeoutMs: config.timeout ?? deps.defaultTimeoutMs,
    ...(deps.maxTimeoutMs !== undefined ? { maxTimeoutMs: deps.maxTimeoutMs } : {}),
    clientInfo: { name: 'satellite', version: VERSION },
    log: deps.log
  };
  return new RemoteUpstream(options, (events) => config.transport_type === 'sse'
    ? new LegacySseConnection(config.server_slug, http, events)
    : new StreamableConnection(config.server_slug, http, events), () => http.close());
}
