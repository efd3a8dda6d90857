import type { StandaloneConfig } from '../config/standalone';
import type { ClientIdentity } from '../mcp/session-contract';
import type { ServerSnapshot } from '../servers/managed';

export interface TeamServerStatus {
  slug: string;
  name: string;
  transport: string;
  enabled: boolean;
  status: string;
  pid?: number;
  uptimeSeconds?: number;
  restarts: number;
  toolsCount?: number;
  /** Per-user instances: whose it is (only its owner sees it). */
  userId?: string;
  instanceId?: string;
  /** What the user must do (awaiting_user_config, requires_reauth); other errors stay in the logs. */
  statusMessage?: string;
}

/** Statuses only the user can resolve: their message is for them. */
const USER_ACTION = new Set(['awaiting_user_config', 'requires_reauth']);

const visibleTo = (identity: ClientIdentity, owner: { userId?: string }) => owner.userId === undefined || owner.userId === identity.userId;

/**
 * The caller's team's servers: the configured ones, with the live state the registry reports
 * (`app.servers.list(teamId)`). Built
 * field by field (never spread) so commands, args, env, headers and URLs cannot leak.
 */
/** Tool counts the gateway's discovery cache knows (remote servers report none in their snapshot). */
export interface CachedToolCount {
  serverSlug: string;
  userId?: string;
  tools: number;
}

export function teamServers(config: StandaloneConfig, identity: ClientIdentity, snapshots: readonly ServerSnapshot[], cached: readonly CachedToolCount[] = []): TeamServerStatus[] {
  const counts = new Map(cached.filter((c) => visibleTo(identity, c)).map((c) => [c.serverSlug, c.tools]));
  const live = new Map<string, ServerSnapshot>();
  for (const s of snapshots) {
    if (s.teamId === identity.teamId && visibleTo(identity, s)) live.set(s.serverSlug, s);
  }
  const out: TeamServerStatus[] = [];
  for (const server of Object.values(config.mcp_servers)) {
    if (server.team_id !== identity.teamId || !visibleTo(identity, { userId: server.user_id })) continue;
    const snap = live.get(server.server_slug);
    const toolsCount = snap?.toolsCount ?? counts.get(server.server_slug);
    out.push({
      slug: server.server_slug,
      name: server.installation_name,
      transport: server.transport_type,
      enabled: server.enabled,
      status: snap?.status ?? (server.enabled ? 'not_started' : 'disabled'),
      ...(snap?.pid !== undefined ? { pid: snap.pid } : {}),
      ...(snap?.uptimeSeconds !== undefined ? { uptimeSeconds: Math.round(snap.uptimeSeconds) } : {}),
      restarts: snap?.restarts ?? 0,
      ...(toolsCount !== undefined ? { toolsCount } : {}),
      ...(server.user_id !== undefined ? { userId: server.user_id } : {}),
      ...(server.instance_id !== undefined ? { instanceId: server.instance_id } : {}),
      ...(snap?.lastError && USER_ACTION.has(snap.status) ? { statusMessage: snap.lastError } : {})
    });
  }
  return out.sort((a, b) => a.slug.localeCompare(b.slug));
}
