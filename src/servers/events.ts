// Lifecycle events of hosted servers, for the event system (src/events/) and status pages.
import { EventEmitter } from 'node:events';
import type { TransportType } from '../config/server-config';
import type { ServerStatus } from './upstream';

/** Who an event is about: enough to address a backend event (installation, team, user). */
export interface ServerRef {
  installationId: string;
  installationName: string;
  teamId: string;
  serverSlug: string;
  userId?: string;
}

export interface ServerEvents {
  started: [ServerRef & { pid: number; spawn_duration_ms: number; transport?: TransportType }];
  crashed: [ServerRef & { pid: number | undefined; exit_code: number | null; signal: string | null; uptime_seconds: number; crash_count: number; will_restart: boolean; reason: string }];
  restarted: [ServerRef & { old_pid: number | undefined; new_pid: number; restart_reason: 'crash' | 'manual' | 'config_changed'; attempt_number: number }];
  permanently_failed: [ServerRef & { total_crashes: number; last_error: string }];
  dormant: [ServerRef & { pid: number | undefined; idle_duration_seconds: number; last_activity_at: string }];
  respawned: [ServerRef & { pid: number; dormant_duration_seconds: number; respawn_duration_ms: number }];
  stopped: [ServerRef & { pid: number | undefined }];
  status_changed: [ServerRef & { status: ServerStatus; previous: ServerStatus; message?: string }];
  logs: [ServerRef & { lines: { level: 'info' | 'warn' | 'error'; message: string; timestamp: string }[] }];
  log_rate_limited: [ServerRef & { dropped_count: number; time_window_seconds: number; rate_limit: number }];
}

export class ServerEventEmitter extends EventEmitter<ServerEvents> {}
