import type { CommandTargets, InstallationRef } from './command-targets';
import type { ServerSnapshot } from '../servers/managed';
import type { ProcessSnapshot, ProcessSource } from './heartbeat';

// Structural views of the ServerRegistry (src/servers/registry.ts): only what commands and the
// heartbeat need, so this module does not depend on its classes (the snapshot fields come from
// the registry's own type, so the two cannot drift apart).
type SnapshotLike = Pick<ServerSnapshot,
  'teamId' | 'serverSlug' | 'userId' | 'instanceId' | 'installationId' | 'installationName' | 'transport' | 'status' |
  'pid' | 'uptimeSeconds' | 'crashCount' | 'lastError' | 'lastActivityAt' | 'requestCount' | 'errorCount'>;

interface ManagedLike {
  start(): Promise<void>;
  restart(): Promise<void>;
  stop(): Promise<void>;
  snapshot(): SnapshotLike;
  request(method: string, params: Record<string, unknown> | undefined): Promise<Record<string, unknown>>;
}

export interface RegistryLike {
  byInstallation(installationId: string, userId?: string): ManagedLike[];
  list(teamId?: string): SnapshotLike[];
}

const UNHEALTHY = new Set(['error', 'permanently_failed', 'requires_reauth']);

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
      ...(s.instanceId !== undefined ? { instance_id: s.instanceId } : {}),
      server_slug: s.serverSlug,
      transport_type: s.transport,
      message_count: s.requestCount ?? 0,
      error_count: s.errorCount ?? 0,
      health_status: UNHEALTHY.has(s.status) ? 'unhealthy' : 'healthy',
      last_activity: s.lastActivityAt
    }));
}

/** A status the backend shows for one installation (mcp.server.status_changed). */
export type StatusReporter = (s: SnapshotLike, status: 'connecting' | 'discovering_tools' | 'online' | 'error', message?: string) => void;

export interface RegistryTargetOptions {
  /** How long spawn/restart wait for a server still starting before reporting failure. */
  onlineWaitMs?: number;
  reportStatus?: StatusReporter;
}

const SETTLING = new Set(['starting', 'restarting']);

/** Resolves once `u` is no longer starting, at most `ms` later; throws unless it is online. */
async function expectOnline(u: ManagedLike, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (SETTLING.has(u.snapshot().status) && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
  const s = u.snapshot();
  if (s.status !== 'online') {
    throw new Error(`server ${s.installationName} (${s.installationId}) did not come online: ${s.status}${s.lastError ? ` (${s.lastError})` : ''}`);
  }
}

type RegistryTargets = Pick<CommandTargets, 'start' | 'restart' | 'stop' | 'healthCheck' | 'recover' | 'redeploy'>;

/** Backend commands mapped onto the registry: start/restart/stop by installation, health from snapshots. */
export function targetsFromRegistry(registry: RegistryLike, opts: RegistryTargetOptions = {}): RegistryTargets {
  const waitMs = opts.onlineWaitMs ?? 30_000;
  const report: StatusReporter = opts.reportStatus ?? (() => {});
  const resolve = (ref: InstallationRef): ManagedLike[] => {
    let id = ref.installation_id;
    if (!id && ref.installation_name) id = registry.list().find((s) => s.installationName === ref.installation_name)?.installationId;
    const found = id ? registry.byInstallation(id, ref.user_id).filter((u) => !ref.team_id || u.snapshot().teamId === ref.team_id) : [];
    if (found.length === 0) throw new Error(`no server for installation ${ref.installation_id ?? ref.installation_name} on this satellite`);
    return found;
  };
  // start() and restart() never throw: a server that failed shows it in its status.
  const bringUp = (op: 'start' | 'restart') => async (ref: InstallationRef) => {
    await Promise.all(resolve(ref).map(async (u) => {
      await u[op]();
      await expectOnline(u, waitMs);
    }));
  };
  // Reconnect, then list tools again (reference: RecoveryHandler, HTTP/SSE only).
  const recoverOne = async (u: ManagedLike): Promise<number> => {
    report(u.snapshot(), 'connecting');
    try {
      await u.restart();
      await expectOnline(u, waitMs);
      report(u.snapshot(), 'discovering_tools');
      const listed = await u.request('tools/list', undefined);
      const tools = Array.isArray(listed.tools) ? listed.tools.length : 0;
      report(u.snapshot(), 'online');
      return tools;
    } catch (err) {
      report(u.snapshot(), 'error', (err as Error).message);
      throw err;
    }
  };
  return {
    start: bringUp('start'),
    restart: bringUp('restart'),
    stop: async (ref) => {
      await Promise.all(resolve(ref).map((u) => u.stop()));
    },
    recover: async (ref) => {
      const remote = resolve(ref).filter((u) => u.snapshot().transport !== 'stdio');
      if (remote.length === 0) throw new Error(`installation ${ref.installation_id ?? ref.installation_name} has no HTTP/SSE server to recover`);
      const tools = await Promise.all(remote.map(recoverOne));
      return { recovered: remote.length, tool_count: tools.reduce((a, b) => a + b, 0) };
    },
    redeploy: async (ref) => {
      const found = resolve(ref);
      await bringUp('restart')(ref);
      return { redeployed: found.length };
    },
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
