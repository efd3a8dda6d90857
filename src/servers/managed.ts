// What the registry needs of a hosted server beyond the gateway's Upstream contract; stdio
// processes implement it here, remote HTTP servers (src/servers/remote/) through UpstreamFactory.
import type { Logger } from 'pino';
import type { McpServerConfig, TransportType } from '../config/server-config';
import type { ServerEventEmitter } from './events';
import type { UpstreamTokenCache } from './remote/oauth-tokens';
import type { ServerStatus, Upstream } from './upstream';

export interface ServerSnapshot {
  teamId: string;
  serverSlug: string;
  userId?: string;
  /** The backend's instance of a per-user installation (config `instance_id`). */
  instanceId?: string;
  installationId: string;
  installationName: string;
  transport: TransportType;
  status: ServerStatus;
  pid?: number;
  uptimeSeconds?: number;
  /** Restarts after crashes, in the life of this entry. */
  restarts: number;
  /** Crashes inside the current crash window. */
  crashCount: number;
  memoryEnforcement?: 'cgroup' | 'rlimit_as' | 'none';
  toolsCount?: number;
  lastError?: string;
  lastActivityAt?: string;
  /** Requests served and how many of them failed (JSON-RPC error, timeout, crash), over the life of this entry. */
  requestCount?: number;
  errorCount?: number;
}

export interface ServerLogLine {
  line: string;
  timestamp: number;
}

export interface ManagedUpstream extends Upstream {
  readonly config: McpServerConfig;
  /** Eager start; a failure shows in `status`, it is never thrown. */
  start(): Promise<void>;
  /** Explicit restart: also clears permanently_failed. */
  restart(): Promise<void>;
  /** Stops the server (status stopped) until the next ensureReady()/request(). */
  stop(): Promise<void>;
  /** Stops for good (shutdown, removed from config). */
  close(): Promise<void>;
  /** Goes dormant when idle long enough; true when it did. */
  checkDormancy(now: number): boolean;
  snapshot(): ServerSnapshot;
  /** Recent output of the server (stderr of a process), redacted; absent for transports without any. */
  logs?(): ServerLogLine[];
}

export interface UpstreamFactoryContext {
  events: ServerEventEmitter;
  log: Logger;
  /** Per-user upstream OAuth tokens (`requires_oauth` entries). */
  upstreamTokens?: UpstreamTokenCache;
}

/** Builds the upstream of a non-stdio entry (http, sse); undefined when it cannot be hosted. */
export type UpstreamFactory = (config: McpServerConfig, ctx: UpstreamFactoryContext) => ManagedUpstream | undefined;
