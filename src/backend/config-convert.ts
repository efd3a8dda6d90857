import Ajv from 'ajv';
import type { McpServerConfig } from '../config/server-config';
import { mcpServerConfigSchema } from '../config/server-config';
import type { StandaloneConfig } from '../config/standalone';
import { isObject } from './http';

export interface RejectedEntry {
  key: string;
  installation_id?: string;
  team_id?: string;
  error: string;
}

export interface ConvertedConfig {
  config: StandaloneConfig;
  rejected: RejectedEntry[];
}

const ajv = new Ajv({ allErrors: false, useDefaults: true, strict: false });
const validateServer = ajv.compile(mcpServerConfigSchema);

/**
 * Turns the backend's `GET /config` answer into the StandaloneConfig the rest of the daemon runs
 * on: teams derived from the servers, no static tokens. Each server entry is validated on its
 * own; a bad one is returned in `rejected` and left out, the others are kept.
 */
export function convertBackendConfig(payload: unknown): ConvertedConfig {
  if (!isObject(payload)) throw new Error('config payload is not a JSON object');
  const raw = payload.mcp_servers ?? {};
  const entries: [string, unknown][] = Array.isArray(raw)
    ? raw.map((s, i) => [isObject(s) && typeof s.installation_name === 'string' ? s.installation_name : `#${i}`, s])
    : isObject(raw) ? Object.entries(raw) : [];
  if (!Array.isArray(raw) && !isObject(raw)) throw new Error('config payload: mcp_servers is neither an object nor an array');

  const config: StandaloneConfig = { teams: {}, tokens: {}, mcp_servers: {} };
  const rejected: RejectedEntry[] = [];
  const seen = new Map<string, string>();
  for (const [key, value] of entries) {
    const reject = (error: string) => {
      const v = isObject(value) ? value : {};
      rejected.push({ key, error, installation_id: str(v.installation_id), team_id: str(v.team_id) });
    };
    if (!isObject(value)) {
      reject('entry is not an object');
      continue;
    }
    const entry: Record<string, unknown> = structuredClone(value);
    // Older satellites/backends called the transport `type`.
    if (entry.transport_type === undefined && typeof entry.type === 'string') entry.transport_type = entry.type;
    delete entry.type;
    if (entry.transport_type === 'stdio' && entry.args === undefined) entry.args = [];
    for (const k of Object.keys(entry)) if (entry[k] === null) delete entry[k];
    if (!validateServer(entry)) {
      const e = validateServer.errors![0]!;
      reject(`${e.instancePath || '/'} ${e.message ?? 'is invalid'}`);
      continue;
    }
    const server = entry as unknown as McpServerConfig;
    const team = config.teams[server.team_id];
    if (team && team.slug !== server.team_slug) {
      reject(`team_slug "${server.team_slug}" differs from team ${server.team_id}'s slug "${team.slug}"`);
      continue;
    }
    const identity = `${server.team_id}/${server.server_slug}/${server.user_id ?? ''}`;
    const clash = seen.get(identity);
    if (clash !== undefined) {
      reject(`server_slug "${server.server_slug}" is already used by ${clash} in the same team`);
      continue;
    }
    seen.set(identity, key);
    config.teams[server.team_id] ??= { slug: server.team_slug };
    config.mcp_servers[key] = server;
  }
  return { config, rejected };
}

/** JSON with sorted keys, so equal configurations compare equal whatever order the backend used. */
export function canonicalJson(v: unknown): string {
  return JSON.stringify(v, (_k, val: unknown) =>
    isObject(val) ? Object.fromEntries(Object.keys(val).sort().map((k) => [k, val[k]])) : val
  );
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}
