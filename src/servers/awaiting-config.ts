// A per-user instance its user has not configured yet: nothing is spawned or contacted; every
// call answers what the user must configure (the gateway turns it into an isError tool result).
import type { McpServerConfig } from '../config/server-config';
import { ErrorCode, JsonRpcError, type JsonObject } from '../mcp/jsonrpc';
import type { ManagedUpstream, ServerSnapshot } from './managed';
import type { ServerStatus } from './upstream';

/** The env variables and headers the user still has to provide (empty when none are missing). */
function missing(config: McpServerConfig): { env: string[]; headers: string[] } {
  const env = (config.required_user_env ?? []).filter((k) => !config.env?.[k]);
  const lower = new Map(Object.entries(config.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v]));
  const headers = (config.required_user_headers ?? []).filter((k) => !lower.get(k.toLowerCase()));
  return { env, headers };
}

/** True when the entry is marked awaiting, or lacks user env/headers it declares as required. */
export function awaitsUserConfig(config: McpServerConfig): boolean {
  const m = missing(config);
  return config.status === 'awaiting_user_config' || m.env.length > 0 || m.headers.length > 0;
}

/** Guidance a user (or a model on their behalf) can act on; names what is missing, never values. */
export function userConfigGuidance(config: McpServerConfig): string {
  const m = missing(config);
  const parts = [
    ...(m.env.length > 0 ? [`environment variable${m.env.length > 1 ? 's' : ''} ${m.env.join(', ')}`] : []),
    ...(m.headers.length > 0 ? [`header${m.headers.length > 1 ? 's' : ''} ${m.headers.join(', ')}`] : [])
  ];
  const what = parts.length > 0 ? `set ${parts.join(' and ')} in your personal configuration of '${config.installation_name}'` : `complete your personal configuration of '${config.installation_name}'`;
  const where = config.user_config_url ? ` at ${config.user_config_url}` : ' in the DeployStack dashboard';
  return `Server '${config.server_slug}' is not configured for you yet: ${what}${where}, then try again.`;
}

export class AwaitingConfigUpstream implements ManagedUpstream {
  readonly teamId: string;
  readonly serverSlug: string;
  readonly status: ServerStatus = 'awaiting_user_config';
  readonly initializeResult: JsonObject | undefined = undefined;

  constructor(readonly config: McpServerConfig) {
    this.teamId = config.team_id;
    this.serverSlug = config.server_slug;
  }

  #error(): JsonRpcError {
    return new JsonRpcError(ErrorCode.InvalidRequest, userConfigGuidance(this.config), { status: 'awaiting_user_config' });
  }

  ensureReady(): Promise<void> {
    return Promise.reject(this.#error());
  }

  request(): Promise<JsonObject> {
    return Promise.reject(this.#error());
  }

  notify(): void {}

  addListener(): () => void {
    return () => undefined;
  }

  async start(): Promise<void> {}
  async restart(): Promise<void> {}
  async stop(): Promise<void> {}
  async close(): Promise<void> {}

  checkDormancy(): boolean {
    return false;
  }

  snapshot(): ServerSnapshot {
    const c = this.config;
    return {
      teamId: c.team_id, serverSlug: c.server_slug, ...(c.user_id !== undefined ? { userId: c.user_id } : {}),
      installationId: c.installation_id, installationName: c.installation_name, transport: c.transport_type,
      status: this.status, restarts: 0, crashCount: 0, lastError: userConfigGuidance(c)
    };
  }
}
