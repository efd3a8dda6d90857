// Event types and their data, snake_case as the DeployStack backend expects (reference §3.6).
type Opt<T> = T | undefined;

export type ServerLifecycleStatus =
  | 'provisioning' | 'command_received' | 'connecting' | 'discovering_tools' | 'syncing_tools' | 'online'
  | 'offline' | 'error' | 'requires_reauth' | 'permanently_failed' | 'restarting' | 'dormant' | 'stopped';

interface ServerRef {
  server_id: string;
  server_slug: string;
  team_id: string;
  user_id?: Opt<string>;
}

export interface LogLine {
  level: 'info' | 'warn' | 'error' | 'debug';
  message: string;
  metadata?: Record<string, unknown>;
  timestamp: string;
}

export interface RequestLogEntry {
  user_id?: string;
  tool_name: string;
  tool_params: unknown;
  tool_response?: unknown;
  response_time_ms: number;
  success: boolean;
  error_message?: string;
  timestamp: string;
}

export interface EventDataMap {
  'mcp.server.status_changed': { installation_id: string; team_id: string; user_id?: Opt<string>; status: ServerLifecycleStatus; status_message?: Opt<string>; timestamp?: string };
  'mcp.server.started': ServerRef & { process_id: number | null; transport: string; tool_count: number; spawn_duration_ms: number };
  'mcp.server.crashed': ServerRef & { process_id: number | null; exit_code: number | null; signal: string | null; uptime_seconds: number; crash_count: number; will_restart: boolean };
  'mcp.server.restarted': ServerRef & { old_process_id: number | null; new_process_id: number | null; restart_reason: string; attempt_number: number };
  'mcp.server.permanently_failed': ServerRef & { total_crashes: number; last_error: string; failed_at: string };
  'mcp.server.dormant': ServerRef & { process_id: number | null; idle_duration_seconds: number; last_activity_at: string };
  'mcp.server.respawned': ServerRef & { process_id: number | null; dormant_duration_seconds: number; respawn_duration_ms: number };
  'mcp.server.logs': { installation_id: string; team_id: string; user_id?: Opt<string>; logs: LogLine[] };
  'mcp.request.logs': { installation_id: string; team_id: string; requests: RequestLogEntry[] };
  'mcp.tools.discovered': { installation_id: string; installation_name: string; team_id: string; server_slug: string; tool_count: number; total_tokens: number; tools: { tool_name: string; description?: string; input_schema?: unknown; token_count: number }[]; discovered_at: string };
  'mcp.client.connected': { session_id: string; client_type?: string; user_agent?: string; team_id: string; transport: string; ip_address?: string };
  'mcp.client.disconnected': { session_id: string; team_id: string; connection_duration_seconds: number; tool_execution_count: number; disconnect_reason: string };
  'mcp.client.activity': { user_id?: string; team_id: string; oauth_client_id?: string; auth_type?: string; auth_identifier?: string; client_name?: string; user_agent?: string; ip_address?: string; session_id?: string; request_count: number; tool_call_count: number; last_activity_at: string };
  'config.error': { installation_id?: string; entry_key: string; team_id?: string; error_message: string };
}

export type EventType = keyof EventDataMap;

/** One queued event: `id` and `seq` are local bookkeeping, only type/timestamp/data go on the wire. */
export interface SatelliteEvent<T extends EventType = EventType> {
  id: string;
  seq: number;
  type: T;
  timestamp: string;
  data: EventDataMap[T];
}

export interface WireEvent {
  type: string;
  timestamp: string;
  data: unknown;
}

export function toWire(e: SatelliteEvent): WireEvent {
  return { type: e.type, timestamp: e.timestamp, data: e.data };
}
