import { VERSION } from '../version';
import type { MetricsSampler } from './metrics';

/** One managed process as the heartbeat reports it; the lead wires the ServerRegistry to produce these. */
export interface ProcessSnapshot {
  team_id: string;
  installation_id: string;
  installation_name: string;
  status: string;
  pid: number | null;
  uptime_seconds: number;
  user_id?: string;
  /** The backend's instance of a per-user installation. */
  instance_id?: string;
  server_slug?: string;
  transport_type?: string;
  message_count?: number;
  error_count?: number;
  health_status?: string;
  /** ISO time of the last request served. */
  last_activity?: string;
}

export type ProcessSource = () => ProcessSnapshot[];

const ERROR_STATES = new Set(['error', 'permanently_failed', 'failed', 'crashed']);

/** Builds the heartbeat body (reference §3.3), with processes grouped by team. */
export async function buildHeartbeat(metrics: MetricsSampler, processes: ProcessSnapshot[], satelliteUrl: string | undefined): Promise<Record<string, unknown>> {
  const byTeam: Record<string, Omit<ProcessSnapshot, 'team_id'>[]> = {};
  for (const p of processes) {
    const { team_id, ...rest } = p;
    (byTeam[team_id] ??= []).push({
      ...rest,
      message_count: p.message_count ?? 0,
      error_count: p.error_count ?? 0,
      health_status: p.health_status ?? (ERROR_STATES.has(p.status) ? 'unhealthy' : 'healthy')
    });
  }
  return {
    status: 'active',
    system_metrics: await metrics.sample(),
    processes: [],
    processes_by_team: byTeam,
    error_count: processes.filter((p) => ERROR_STATES.has(p.status)).length,
    version: VERSION,
    ...(satelliteUrl !== undefined ? { satellite_url: satelliteUrl } : {})
  };
}
