// Every environment variable the satellite reads: its type, default and what is allowed.
// .env.example and the README document the same table.
export type EnvKind =
  | { type: 'int'; min: number; max: number }
  | { type: 'enum'; values: readonly string[] }
  | { type: 'bool' }
  | { type: 'string'; pattern?: RegExp; hint?: string }
  | { type: 'url' }
  | { type: 'list' };

export interface EnvVarSpec {
  name: string;
  kind: EnvKind;
  default?: string;
  description: string;
}

const int = (min: number, max: number): EnvKind => ({ type: 'int', min, max });

export const ENV_SPEC: readonly EnvVarSpec[] = [
  { name: 'PORT', kind: int(0, 65535), default: '3001', description: 'HTTP listen port' },
  { name: 'HOST', kind: { type: 'string', pattern: /^[0-9A-Za-z.:[\]-]+$/, hint: 'a host name or IP address' }, default: '127.0.0.1', description: 'listen address (loopback by default)' },
  { name: 'NODE_ENV', kind: { type: 'enum', values: ['development', 'production', 'test'] }, default: 'production', description: 'development: pretty logs, no sandbox by default' },
  { name: 'LOG_LEVEL', kind: { type: 'enum', values: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] }, description: 'pino level (default info in production, debug in development)' },
  { name: 'SATELLITE_CONFIG', kind: { type: 'string' }, default: 'config/satellite.json', description: 'standalone config file (teams, tokens, servers)' },
  { name: 'SATELLITE_DATA_DIR', kind: { type: 'string' }, default: 'data', description: 'state: team directories, event spill, persisted keys' },
  { name: 'SATELLITE_ALLOW_INSECURE_BIND', kind: { type: 'bool' }, default: 'false', description: 'allow a non-loopback HOST with no tokens and no introspection configured' },
  { name: 'SATELLITE_CORS_ORIGINS', kind: { type: 'list' }, default: '', description: 'comma-separated origins allowed cross-origin (default none)' },
  { name: 'SATELLITE_BODY_LIMIT_BYTES', kind: int(1024, 64 * 1024 * 1024), default: '4194304', description: 'largest accepted request body' },
  { name: 'HTTP_REQUEST_TIMEOUT_MS', kind: int(100, 600_000), default: '30000', description: 'time a client has to send a whole request, headers and body (slow clients get 408)' },
  { name: 'SANDBOX', kind: { type: 'enum', values: ['auto', 'none', 'bwrap', 'nsjail'] }, default: 'auto', description: 'auto: nsjail, else bwrap in production; none in development' },
  { name: 'SATELLITE_ALLOWED_COMMANDS', kind: { type: 'list' }, default: 'node,npx,python3,uvx', description: 'commands a stdio server may run (absolute paths allowed when listed)' },
  { name: 'SANDBOX_MEMORY_LIMIT_MB', kind: int(16, 1 << 20), default: '100', description: 'memory per server process (cgroup where available)' },
  { name: 'SANDBOX_AS_LIMIT_MB', kind: int(64, 1 << 22), default: '4096', description: 'RLIMIT_AS fallback when no memory cgroup can be used' },
  { name: 'SANDBOX_CPU_SECONDS', kind: int(1, 1 << 30), default: '60', description: 'RLIMIT_CPU seconds per process' },
  { name: 'SANDBOX_MAX_PROCESSES', kind: int(1, 1 << 20), default: '50', description: 'processes per team sandbox' },
  { name: 'SANDBOX_MAX_OPEN_FILES', kind: int(16, 1 << 20), default: '1024', description: 'RLIMIT_NOFILE' },
  { name: 'SANDBOX_MAX_FILE_SIZE_MB', kind: int(1, 1 << 20), default: '50', description: 'RLIMIT_FSIZE in MB' },
  { name: 'MCP_PROCESS_IDLE_TIMEOUT_SECONDS', kind: int(0, 1 << 30), default: '180', description: 'idle stdio servers go dormant after this (0 = never)' },
  { name: 'MCP_PROCESS_SPAWN_GRACE_PERIOD_SECONDS', kind: int(0, 1 << 30), default: '60', description: 'no dormancy right after spawn' },
  { name: 'MCP_REQUEST_TIMEOUT_MS', kind: int(100, 1 << 30), default: '60000', description: 'default per-request timeout towards a server' },
  { name: 'MCP_REQUEST_MAX_TIMEOUT_MS', kind: int(100, 1 << 30), description: 'progress notifications reset a call\'s timeout, never past this many ms after it began (default 10x the timeout)' },
  { name: 'MCP_TOOL_CACHE_REFRESH_SECONDS', kind: int(1, 1 << 20), default: '300', description: 'how often online servers\' tools/resources/prompts are re-listed (clients get list_changed only on a change)' },
  { name: 'MCP_HEALTH_PROBE_SECONDS', kind: int(1, 1 << 20), default: '60', description: 'how often idle remote (http/sse) servers are pinged; a failed probe marks them error' },
  { name: 'MCP_HEALTH_PROBE_TIMEOUT_MS', kind: int(100, 600_000), default: '5000', description: 'how long a health probe waits for its answer' },
  { name: 'MCP_SESSION_IDLE_TIMEOUT_SECONDS', kind: int(1, 1 << 30), default: '1800', description: 'client sessions expire after this idle time' },
  { name: 'MCP_MAX_SESSIONS', kind: int(1, 1 << 24), default: '10000', description: 'sessions in total' },
  { name: 'MCP_MAX_SESSIONS_PER_TEAM', kind: int(1, 1 << 24), default: '2000', description: 'sessions per team' },
  { name: 'MCP_SSE_KEEPALIVE_SECONDS', kind: int(1, 3600), default: '25', description: 'SSE keep-alive comment interval on open streams' },
  { name: 'DEPLOYSTACK_BACKEND_URL', kind: { type: 'url' }, description: 'backend mode when set; standalone otherwise' },
  { name: 'DEPLOYSTACK_SATELLITE_NAME', kind: { type: 'string', pattern: /^[a-z0-9_-]{10,32}$/, hint: '10-32 characters of a-z, 0-9, _ and -' }, description: 'satellite name (backend mode)' },
  { name: 'DEPLOYSTACK_REGISTRATION_TOKEN', kind: { type: 'string', pattern: /^deploystack_satellite_(global|team)_.{10,}$/, hint: 'a token starting with deploystack_satellite_global_ or deploystack_satellite_team_' }, description: 'one-time registration token (backend mode)' },
  { name: 'DEPLOYSTACK_SATELLITE_URL', kind: { type: 'url' }, description: 'public base URL (OAuth metadata, first heartbeat)' },
  { name: 'DEPLOYSTACK_BACKEND_POLLING_INTERVAL', kind: int(1, 3600), default: '60', description: 'seconds between command polls when the backend gives no hint' },
  { name: 'DEPLOYSTACK_CREDENTIALS_FILE', kind: { type: 'string' }, default: 'persistent_data/backend.key.json', description: 'where the API key is kept (mode 0600)' },
  { name: 'DEPLOYSTACK_STATUS_SHOW_VERSION', kind: { type: 'bool' }, default: 'true', description: 'include version in GET /' },
  { name: 'DEPLOYSTACK_STATUS_SHOW_UPTIME', kind: { type: 'bool' }, default: 'true', description: 'include uptime in GET /' },
  { name: 'EVENT_BATCH_INTERVAL_MS', kind: int(100, 600_000), default: '3000', description: 'event flush interval' },
  { name: 'EVENT_MAX_BATCH_SIZE', kind: int(1, 100), default: '100', description: 'events per POST (backend max 100)' },
  { name: 'EVENT_MAX_QUEUE_SIZE', kind: int(1, 10_000_000), default: '10000', description: 'in-memory events before spilling to disk' },
  { name: 'EVENT_FLUSH_TIMEOUT_MS', kind: int(0, 600_000), default: '5000', description: 'shutdown flush budget' },
  { name: 'OAUTH_INTROSPECTION_URL', kind: { type: 'url' }, description: 'RFC 7662 introspection endpoint (any authorization server)' },
  { name: 'OAUTH_CLIENT_ID', kind: { type: 'string' }, description: 'client id for introspection' },
  { name: 'OAUTH_CLIENT_SECRET', kind: { type: 'string' }, description: 'client secret for introspection' },
  { name: 'OAUTH_AUTHORIZATION_SERVERS', kind: { type: 'list' }, default: '', description: 'issuer URLs published in protected resource metadata' },
  { name: 'OAUTH_TEAM_CLAIM', kind: { type: 'string' }, default: 'team_id', description: 'introspection claim naming the team' },
  { name: 'OAUTH_AUDIENCE', kind: { type: 'string' }, description: 'required audience/resource (RFC 8707) when set' },
  { name: 'OAUTH_INTROSPECTION_TIMEOUT_MS', kind: int(100, 600_000), default: '5000', description: 'introspection request timeout (503 to the client when exceeded)' },
  { name: 'OAUTH_INTROSPECTION_CACHE_SIZE', kind: int(0, 10_000_000), default: '10000', description: 'introspection results kept (LRU; 0 disables caching)' },
  { name: 'OAUTH_INTROSPECTION_CACHE_TTL_SECONDS', kind: int(0, 86_400), default: '300', description: 'longest an active token is trusted without asking again (never past its exp)' },
  { name: 'OAUTH_INTROSPECTION_NEGATIVE_TTL_SECONDS', kind: int(0, 3600), default: '10', description: 'how long an inactive token is remembered as inactive' },
  { name: 'TEAM_MAX_CONCURRENT_REQUESTS', kind: int(0, 1 << 20), default: '256', description: 'MCP requests in flight per team (0 = unlimited; 429 beyond)' },
  { name: 'TEAM_RATE_LIMIT_RPS', kind: int(0, 1 << 20), default: '1000', description: 'sustained MCP requests per second per team (0 = unlimited; 429 beyond)' },
  { name: 'TEAM_RATE_LIMIT_BURST', kind: int(1, 1 << 20), default: '2000', description: 'requests a team may send at once before TEAM_RATE_LIMIT_RPS applies' },
  { name: 'TOOL_RATE_LIMIT_RPS', kind: int(0, 1 << 20), default: '0', description: 'sustained calls per second per team and tool, decided from the Mcp-Name header of 2026-07-28 requests (0 = unlimited; 429 beyond)' },
  { name: 'TOOL_RATE_LIMIT_BURST', kind: int(1, 1 << 20), default: '100', description: 'calls of one tool a team may send at once before TOOL_RATE_LIMIT_RPS applies' },
  { name: 'TEAM_MAX_CONCURRENT_SERVER_CALLS', kind: int(0, 1 << 20), default: '100', description: 'calls in flight per team towards its MCP servers (0 = unlimited; then queued)' },
  { name: 'TEAM_MAX_QUEUED_SERVER_CALLS', kind: int(0, 1 << 20), default: '200', description: 'calls a saturated team may queue; beyond, refused with JSON-RPC error -32010' },
  { name: 'TEAM_SERVER_CALL_QUEUE_WAIT_MS', kind: int(0, 600_000), default: '10000', description: 'longest a queued call waits for a slot before it is refused' },
  { name: 'TEAM_MEMORY_BUDGET_MB', kind: int(0, 1 << 24), default: '0', description: 'resident memory of all a team\'s server processes (0 = unlimited); least recently used idle ones sleep beyond it' },
  { name: 'TEAM_MEMORY_CHECK_SECONDS', kind: int(1, 3600), default: '15', description: 'how often team memory is measured against TEAM_MEMORY_BUDGET_MB' },
  { name: 'AUDIT_LOG_FILE', kind: { type: 'string' }, description: 'audit trail (JSON lines, rotated); default <SATELLITE_DATA_DIR>/audit.log' },
  { name: 'AUDIT_LOG_MAX_SIZE_MB', kind: int(1, 1 << 20), default: '10', description: 'the audit file is rotated when it reaches this size' },
  { name: 'AUDIT_LOG_MAX_FILES', kind: int(1, 1000), default: '5', description: 'rotated audit files kept (audit.log.1 is the newest)' },
  { name: 'METRICS_ALLOWED_IPS', kind: { type: 'list' }, default: '', description: 'addresses or CIDRs allowed to scrape /metrics besides loopback' },
  { name: 'SHUTDOWN_TIMEOUT_MS', kind: int(0, 600_000), default: '10000', description: 'in-flight requests get this long on SIGTERM' }
];
