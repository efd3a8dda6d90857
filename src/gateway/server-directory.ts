// What the team gateway needs of the server registry (app.servers satisfies it).
import type { McpServerConfig } from '../config/server-config';
import type { Upstream } from '../servers/upstream';

export interface GatewayUpstream extends Upstream {
  readonly config: McpServerConfig;
  /** Crash count and last error, for messages a model can act on. */
  snapshot?(): { crashCount?: number; lastError?: string };
}

export interface ServerDirectory {
  /** The servers a user of a team may use: the team's shared ones plus that user's own instances. */
  forTeam(teamId: string, userId?: string): GatewayUpstream[];
  /** A process for one client session when the server wants one (session_affinity "per_session"). */
  forSession?(shared: GatewayUpstream): GatewayUpstream | undefined;
  releaseSession?(own: GatewayUpstream): Promise<void>;
}

/** Who may see a server's messages: everyone in the team, or only its owner for per-user instances. */
export function visibleTo(upstream: GatewayUpstream, teamId: string, userId: string | undefined): boolean {
  return upstream.teamId === teamId && (upstream.config.user_id === undefined || upstream.config.user_id === userId);
}

/** Cache key: team, slug and owner (never the slug alone, reference §8 item 5). */
export function upstreamKey(u: GatewayUpstream): string {
  return JSON.stringify([u.teamId, u.serverSlug, u.config.user_id ?? null]);
}
