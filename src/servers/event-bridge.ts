// Turns registry lifecycle events into the DeployStack event types (src/events/types.ts), stderr
// lines batched per installation as the original does (20 lines or 3 s, whichever comes first).
import type { ServerEventEmitter, ServerEvents, ServerRef } from './events';
import type { ServerStatus } from './upstream';

export type EmitEvent = (type: string, data: Record<string, unknown>) => void;

export interface BridgeOptions {
  maxBatch?: number;
  flushMs?: number;
}

type LogLine = ServerEvents['logs'][0]['lines'][number];

// The original reports installation_name as server_slug in these events (reference §3.6); kept for the backend.
const ref = (e: ServerRef) => ({ server_id: e.installationId, server_slug: e.installationName, team_id: e.teamId, ...(e.userId ? { user_id: e.userId } : {}) });

const BACKEND_STATUS: Record<ServerStatus, string> = {
  starting: 'connecting',
  online: 'online',
  dormant: 'dormant',
  restarting: 'restarting',
  error: 'error',
  permanently_failed: 'permanently_failed',
  stopped: 'stopped',
  awaiting_user_config: 'awaiting_user_config',
  requires_reauth: 'requires_reauth'
};

/** Subscribes to `source`; returns a function that flushes pending log batches and unsubscribes. */
export function bridgeServerEvents(source: ServerEventEmitter, emit: EmitEvent, opts: BridgeOptions = {}): () => void {
  const maxBatch = opts.maxBatch ?? 20;
  const flushMs = opts.flushMs ?? 3000;
  const batches = new Map<string, { e: ServerRef; lines: LogLine[]; timer: NodeJS.Timeout }>();
  const flush = (key: string): void => {
    const b = batches.get(key);
    if (!b) return;
    batches.delete(key);
    clearTimeout(b.timer);
    emit('mcp.server.logs', { installation_id: b.e.installationId, team_id: b.e.teamId, ...(b.e.userId ? { user_id: b.e.userId } : {}), logs: b.lines });
  };
  const handlers: { [K in keyof ServerEvents]?: (...args: ServerEvents[K]) => void } = {
    started: (e) => emit('mcp.server.started', { ...ref(e), process_id: e.pid, transport: e.transport ?? 'stdio', tool_count: 0, spawn_duration_ms: e.spawn_duration_ms }),
    crashed: (e) => emit('mcp.server.crashed', {
      ...ref(e), process_id: e.pid ?? null, exit_code: e.exit_code, signal: e.signal, uptime_seconds: e.uptime_seconds, crash_count: e.crash_count, will_restart: e.will_restart
    }),
    restarted: (e) => emit('mcp.server.restarted', { ...ref(e), old_process_id: e.old_pid ?? null, new_process_id: e.new_pid, restart_reason: e.restart_reason, attempt_number: e.attempt_number }),
    permanently_failed: (e) => emit('mcp.server.permanently_failed', { ...ref(e), total_crashes: e.total_crashes, last_error: e.last_error, failed_at: new Date().toISOString() }),
    dormant: (e) => emit('mcp.server.dormant', { ...ref(e), process_id: e.pid ?? null, idle_duration_seconds: e.idle_duration_seconds, last_activity_at: e.last_activity_at }),
    respawned: (e) => emit('mcp.server.respawned', { ...ref(e), process_id: e.pid, dormant_duration_seconds: e.dormant_duration_seconds, respawn_duration_ms: e.respawn_duration_ms }),
    status_changed: (e) => emit('mcp.server.status_changed', {
      installation_id: e.installationId, team_id: e.teamId, ...(e.userId ? { user_id: e.userId } : {}), status: BACKEND_STATUS[e.status], ...(e.message ? { status_message: e.message } : {})
    }),
    log_rate_limited: (e) => emit('mcp.server.log_rate_limit_exceeded', {
      installation_id: e.installationId, dropped_count: e.dropped_count, time_window_seconds: e.time_window_seconds, rate_limit: e.rate_limit
    }),
    logs: (e) => {
      const key = JSON.stringify([e.installationId, e.teamId, e.userId ?? null]);
      let b = batches.get(key);
      if (!b) {
        const timer = setTimeout(() => flush(key), flushMs);
        timer.unref();
        b = { e, lines: [], timer };
        batches.set(key, b);
      }
      b.lines.push(...e.lines);
      if (b.lines.length >= maxBatch) flush(key);
    }
  };
  for (const [name, handler] of Object.entries(handlers)) source.on(name as keyof ServerEvents, handler as never);
  return () => {
    for (const [name, handler] of Object.entries(handlers)) source.off(name as keyof ServerEvents, handler as never);
    for (const key of [...batches.keys()]) flush(key);
  };
}
