import type { CommandTargets, InstallationRef } from './command-targets';
import type { ProcessSnapshot, ProcessSource } from './heartbeat';

// Structural views of the ServerRegistry (src/servers/registry.ts): only what commands and the
// heartbeat need, so this module does not depend on its classes.
interface SnapshotLike {
  teamId: string;
  serverSlug: string;
  userId?: string;
  installationId: string;
  installationName: string;
  transport: string;
  status: string;
  pid?: number;
  uptimeSeconds?: number;
  crashCount: number;
  lastError?: string;
  lastActivityAt?: string;
}

interface ManagedLike {
  start(): Promise<void>;
  restart(): Promise<void>;
  stop(): Promise<void>;
  snapshot(): SnapshotLike;
}

export interface RegistryLike {
  byInstallation(installationId: string, userId?: string): ManagedLike[];
  list(teamId?: string): SnapshotLike[];
}

const UNHEALTHY = new Set(['error', 'permanently_failed']);

export function processesFromRegistry(registry: RegistryLike): ProcessSource {
  return () =>
    registry.list().map((s): ProcessSnapshot => ({
      team_id: s.teamId,
      installation_id: s.installationId,
      installation_name: s.installationName,
      status: s.status,
      pid: s.pid ?? null,
      uptime_seconds: s.uptimeSeconds ?? 0,
      user_id: s.userId,
      server_slug: s.serverSlug,
      transport_type: s.transport,
      error_count: s.crashCount,
      health_status: UNHEALTHY.has(s.status) ? 'unhealthy' : 'healthy',
      last_activity: s.lastActivityAt
    }));
}

/** Backend commands mapped onto the registry: start/restart/stop by installation, health from snapshots. */
export function targetsFromRegistry(registry: RegistryLike): Pick<CommandTargets, 'start' | 'restart' | 'stop' | 'healthCheck'> {
  const resolve = (ref: InstallationRef): ManagedLike[] => {
    let id = ref.installation_id;
    if (!id && ref.installation_name) id = registry.list().find((s) => s.installationName === ref.installation_name)?.installationId;
    const found = id ? registry.byInstallation(id, ref.user_id).filter((u) => !ref.team_id || u.snapshot().teamId === ref.team_id) : [];
    if (found.length === 0) throw new Error(`no server for installation ${ref.installation_id ?? ref.installation_name} on this satellite`);
    return found;
  };
  const each = (op: 'start' | 'restart' | 'stop') => async (ref: InstallationRef) => {
    await Promise.all(resolve(ref).map((u) => u[op]()));
  };
  return {
    start: each('start'),
    restart: each('restart'),
    stop: each('stop'),
    healthCheck: async ({ installation_id, check_type }) => {
      const servers = registry.list().filter((s) => !installation_id || s.installationId === installation_id);
      return {
        check_type,
        healthy: servers.filter((s) => !UNHEALTHY.has(s.status)).length,
        unhealthy: servers.filter((s) => UNHEALTHY.has(s.status)).length,
        servers: servers.map((s) => ({ installation_id: s.installationId, installation_name: s.installationName, team_id: s.teamId, status: s.status, ...(s.lastError ? { last_error: s.lastError } : {}) }))
      };
    }
  };
}
