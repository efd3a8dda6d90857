import { arch, platform, release, totalmem } from 'node:os';
import type { WireEvent } from '../events/types';
import { BackendHttpError, BackendUnreachableError, createBackendFetch, isObject, type BackendFetch, type BackendResponse } from './http';
import type { SatelliteCredentials } from './credentials';

export interface BackendCommand {
  id: string;
  command_type: string;
  priority?: string;
  payload: Record<string, unknown>;
  correlation_id?: string;
}

export interface PollResult {
  commands: BackendCommand[];
  polling_mode?: string;
  /** Seconds, as the backend sends it. */
  next_poll_interval?: number;
}

export interface CommandResult {
  command_id: string;
  status: 'acknowledged' | 'executing' | 'completed' | 'failed';
  result?: Record<string, unknown>;
  error_message?: string;
}

export interface RegistrationAnswer {
  id: string;
  name: string;
  api_key: string;
  satellite_type?: string;
  team_id?: string | null;
}

/** Registration refused for a reason retrying will not fix by itself (bad or used token). */
export class RegistrationRejectedError extends Error {
  constructor(readonly code: string, message: string) {
    super(message);
    this.name = 'RegistrationRejectedError';
  }
}

/**
 * Every call the satellite makes to a DeployStack backend (reference §3.2). Calls that need the
 * satellite's identity read it from `credentials()` at call time, so re-registration is seen at once.
 */
export class BackendClient {
  readonly #fetch: BackendFetch;

  constructor(baseUrl: string, userAgent: string, private readonly credentials: () => SatelliteCredentials | undefined, fetchImpl?: typeof fetch) {
    this.#fetch = createBackendFetch(baseUrl, userAgent, fetchImpl);
  }

  async health(): Promise<boolean> {
    const res = await this.#fetch('/api/health', { timeoutMs: 5_000 });
    return res.ok;
  }

  async register(name: string, registrationToken: string): Promise<RegistrationAnswer> {
    const res = await this.#fetch('/api/satellites/register', {
      method: 'POST',
      bearer: registrationToken,
      timeoutMs: 10_000,
      body: {
        name,
        capabilities: ['stdio', 'http', 'sse'],
        system_info: { os: `${platform()} ${release()}`, arch: arch(), node_version: process.version, memory_mb: Math.round(totalmem() / 1048576) }
      }
    });
    const body = isObject(res.body) ? res.body : {};
    const sat = isObject(body.satellite) ? body.satellite : undefined;
    if (res.ok && sat && typeof sat.id === 'string' && typeof sat.api_key === 'string') {
      return { id: sat.id, name: typeof sat.name === 'string' ? sat.name : name, api_key: sat.api_key, satellite_type: sat.satellite_type as string | undefined, team_id: sat.team_id as string | null | undefined };
    }
    const code = typeof body.error === 'string' ? body.error : `http_${res.status}`;
    const message = typeof body.message === 'string' ? body.message : `registration answered ${res.status}`;
    if (res.status >= 500 || res.status === 429) throw new BackendUnreachableError(`registration: ${code}: ${message}`);
    throw new RegistrationRejectedError(code, message);
  }

  heartbeat(payload: Record<string, unknown>): Promise<BackendResponse> {
    return this.#authed(`/heartbeat`, { method: 'POST', body: payload });
  }

  async pollCommands(lastPoll: string | undefined, limit = 10): Promise<PollResult> {
    const res = this.#require(await this.#authed('/commands', { query: { last_poll: lastPoll, limit } }), 'command poll');
    if (!isObject(res.body)) throw new BackendHttpError(res.status, res.body, 'command poll answered something that is not a JSON object');
    const body = res.body;
    const commands = Array.isArray(body.commands) ? body.commands.filter(isCommand) : [];
    const hint = typeof body.next_poll_interval === 'number' && Number.isFinite(body.next_poll_interval) ? body.next_poll_interval : undefined;
    return { commands, polling_mode: typeof body.polling_mode === 'string' ? body.polling_mode : undefined, next_poll_interval: hint };
  }

  /** Throws unless the backend took the result (2xx) or says the command is unknown (404: never retry). */
  async postCommandResult(result: CommandResult): Promise<'accepted' | 'unknown_command'> {
    const res = await this.#authed('/command-result', { method: 'POST', body: result });
    if (res.status === 404) return 'unknown_command';
    this.#require(res, 'command result');
    return 'accepted';
  }

  async getConfig(): Promise<unknown> {
    return this.#require(await this.#authed('/config', {}), 'config fetch').body;
  }

  postEvents(events: WireEvent[]): Promise<BackendResponse> {
    return this.#authed('/events', { method: 'POST', body: { events } });
  }

  /** RFC 7662 introspection of an MCP client's token at the backend, with the satellite key. */
  async introspect(token: string): Promise<Record<string, unknown>> {
    const res = await this.#fetch('/api/oauth2/introspect', { method: 'POST', bearer: this.#key(), body: { token }, timeoutMs: 10_000 });
    this.#require(res, 'introspection');
    return isObject(res.body) ? res.body : { active: false };
  }

  async retrieveUpstreamToken(ref: { installation_id: string; user_id: string; team_id: string }): Promise<Record<string, unknown> | undefined> {
    const res = await this.#authed('/tokens/retrieve', { method: 'POST', body: ref });
    if (res.status === 404) return undefined;
    this.#require(res, 'token retrieval');
    return isObject(res.body) ? res.body : undefined;
  }

  async upstreamTokenStatus(ref: { installation_id: string; user_id: string; team_id: string }): Promise<Record<string, unknown>> {
    const res = this.#require(await this.#authed('/tokens/status', { method: 'POST', body: ref }), 'token status');
    return isObject(res.body) ? res.body : {};
  }

  #key(): string {
    const c = this.credentials();
    if (!c) throw new BackendUnreachableError('not registered with the backend yet');
    return c.api_key;
  }

  #authed(suffix: string, opts: { method?: 'GET' | 'POST'; body?: unknown; query?: Record<string, string | number | undefined> }): Promise<BackendResponse> {
    const c = this.credentials();
    if (!c) return Promise.reject(new BackendUnreachableError('not registered with the backend yet'));
    return this.#fetch(`/api/satellites/${encodeURIComponent(c.satellite_id)}${suffix}`, { ...opts, bearer: c.api_key, timeoutMs: suffix === '/commands' ? 15_000 : 10_000 });
  }

  #require(res: BackendResponse, what: string): BackendResponse {
    if (!res.ok) throw new BackendHttpError(res.status, res.body, `${what} answered ${res.status}`);
    return res;
  }
}

function isCommand(v: unknown): v is BackendCommand {
  if (!isObject(v) || (typeof v.id !== 'string' && typeof v.id !== 'number') || typeof v.command_type !== 'string') return false;
  v.id = String(v.id);
  if (typeof v.payload === 'string') {
    try {
      v.payload = JSON.parse(v.payload);
    } catch {
      v.payload = {};
    }
  }
  if (!isObject(v.payload)) v.payload = {};
  return true;
}
