// The registry as the heartbeat reports it (`processes_by_team`, reference §3.3).
import type { ProcessSnapshot } from '../backend/heartbeat';
import type { ServerSnapshot } from './managed';

const UNHEALTHY = new Set(['error', 'permanently_failed', 'restarting']);

export function toProcessSnapshots(servers: ServerSnapshot[]): ProcessSnapshot[] {
  return servers.map((s) => ({
    team_id: s.teamId,
    installation_id: s.installationId,
    installation_name: s.installationName,
    server_slug: s.serverSlug,
    transport_type: s.transport,
    status: s.status,
    pid: s.pid ?? null,
    uptime_seconds: s.uptimeSeconds ?? 0,
    ...(s.userId ? { user_id: s.userId } : {}),
    message_count: s.requestCount ?? 0,
    error_count: s.errorCount ?? 0,
    health_status: UNHEALTHY.has(s.status) ? 'unhealthy' : 'healthy',
    ...(s.lastActivityAt ? { last_activity: s.lastActivityAt } : {})
  }));
}
