// The shape of one MCP server entry: the DeployStack backend's config payload
// (`GET /api/satellites/{id}/config` → mcp_servers), used unchanged by the standalone file.
export type TransportType = 'stdio' | 'http' | 'sse';

export interface McpServerConfig {
  installation_id: string;
  instance_id?: string;
  team_id: string;
  team_slug: string;
  server_name?: string;
  server_slug: string;
  installation_name: string;
  transport_type: TransportType;
  command?: string;
  args?: string[];
  env?: Record<string, string>;
  cwd?: string;
  /** stdio: `none` runs the server without network access (its own network namespace). */
  network?: 'host' | 'none';
  url?: string;
  url_query_params?: Record<string, string>;
  headers?: Record<string, string>;
  /** Per-request timeout in milliseconds. */
  timeout?: number;
  enabled: boolean;
  user_id?: string;
  requires_oauth?: boolean;
  disabled_tools?: string[];
  settings?: { request_logging_enabled?: boolean };
  secret_metadata?: { query_params?: string[]; headers?: string[]; env?: string[] };
  /** `awaiting_user_config`: a per-user instance its user has not configured yet (not spawned; calls answer what to configure); other values are ignored. */
  status?: string;
  /** Env variables the user must provide; an instance missing any of them awaits user configuration. */
  required_user_env?: string[];
  /** Headers the user must provide (remote servers), likewise. */
  required_user_headers?: string[];
  /** Where the user configures the instance (shown in the guidance). */
  user_config_url?: string;
  /**
   * stdio only. `shared` (default): one process serves every client session. `per_session`: each
   * client session gets a process of its own (pass-through: spawned on initialize; team endpoint: on
   * its first call), stopped when the session ends, so server→client requests cannot reach another session.
   */
  session_affinity?: 'shared' | 'per_session';
}

export const SLUG_PATTERN = '^[a-z0-9][a-z0-9_-]{0,62}$';

const stringMap = { type: 'object', additionalProperties: { type: 'string' } } as const;

/** JSON Schema of one server entry (shared by the standalone file and backend config sync). */
export const mcpServerConfigSchema = {
  type: 'object',
  required: ['installation_id', 'team_id', 'team_slug', 'server_slug', 'installation_name', 'transport_type'],
  properties: {
    installation_id: { type: 'string', minLength: 1 },
    instance_id: { type: 'string' },
    team_id: { type: 'string', minLength: 1 },
    team_slug: { type: 'string', pattern: SLUG_PATTERN },
    server_name: { type: 'string' },
    server_slug: { type: 'string', pattern: SLUG_PATTERN },
    installation_name: { type: 'string', minLength: 1 },
    transport_type: { enum: ['stdio', 'http', 'sse'] },
    command: { type: 'string', minLength: 1 },
    args: { type: 'array', items: { type: 'string' } },
    env: stringMap,
    cwd: { type: 'string' },
    network: { enum: ['host', 'none'] },
    url: { type: 'string', pattern: '^https?://' },
    url_query_params: stringMap,
    headers: stringMap,
    timeout: { type: 'integer', minimum: 1 },
    enabled: { type: 'boolean', default: true },
    user_id: { type: 'string' },
    requires_oauth: { type: 'boolean' },
    disabled_tools: { type: 'array', items: { type: 'string' } },
    settings: { type: 'object' },
    secret_metadata: { type: 'object' },
    // Any instance status the backend may send; only awaiting_user_config changes anything.
    status: { type: 'string' },
    required_user_env: { type: 'array', items: { type: 'string', minLength: 1 } },
    required_user_headers: { type: 'array', items: { type: 'string', minLength: 1 } },
    user_config_url: { type: 'string', pattern: '^https?://' },
    session_affinity: { enum: ['shared', 'per_session'] }
  },
  allOf: [
    { if: { properties: { transport_type: { const: 'stdio' } } }, then: { required: ['command'] } },
    { if: { properties: { transport_type: { enum: ['http', 'sse'] } } }, then: { required: ['url'] } }
  ]
} as const;
