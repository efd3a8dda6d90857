import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import Ajv from 'ajv';
import { ConfigError } from './config-error';
import type { McpServerConfig } from './server-config';
import { standaloneConfigSchema } from './standalone-schema';

export interface TeamConfig {
  id: string;
  slug: string;
  name?: string;
  meta_tools?: boolean;
  /** Overrides of the TEAM_* budget env defaults for this team (src/budgets/). */
  budgets?: { max_concurrent_calls?: number; max_queued_calls?: number; queue_wait_ms?: number; memory_mb?: number };
}

export interface TokenGrant {
  team_id: string;
  user_id?: string;
  scopes?: string[];
}

export interface StandaloneConfig {
  teams: Record<string, Omit<TeamConfig, 'id'>>;
  /** Static bearer tokens; a key may be the token itself or `sha256:<hex>` of it. */
  tokens: Record<string, TokenGrant>;
  anonymous?: { team_id: string; user_id?: string };
  mcp_servers: Record<string, McpServerConfig>;
}

const ajv = new Ajv({ allErrors: false, useDefaults: true, strict: false });
const validate = ajv.compile(standaloneConfigSchema);

/** Validates a parsed config document; throws ConfigError naming the bad path inside `source`. */
export function parseStandaloneConfig(doc: unknown, source: string): StandaloneConfig {
  if (!validate(doc)) {
    const e = validate.errors![0]!;
    const where = e.instancePath || '/';
    const extra = e.keyword === 'additionalProperties' ? ` (${(e.params as { additionalProperty: string }).additionalProperty})` : '';
    throw new ConfigError(`Invalid config file ${source} at ${where}: ${e.message}${extra}`);
  }
  const cfg = doc as unknown as StandaloneConfig;
  cfg.teams ??= {};
  cfg.tokens ??= {};
  for (const [key, server] of Object.entries(cfg.mcp_servers)) {
    const team = cfg.teams[server.team_id];
    if (!team) cfg.teams[server.team_id] = { slug: server.team_slug };
    else if (team.slug !== server.team_slug) {
      throw new ConfigError(`Invalid config file ${source} at /mcp_servers/${key}/team_slug: "${server.team_slug}" differs from team ${server.team_id}'s slug "${team.slug}"`);
    }
  }
  const seen = new Map<string, string>();
  for (const [key, server] of Object.entries(cfg.mcp_servers)) {
    const id = `${server.team_id}/${server.server_slug}/${server.user_id ?? ''}`;
    if (seen.has(id)) throw new ConfigError(`Invalid config file ${source} at /mcp_servers/${key}/server_slug: "${server.server_slug}" is already used by ${seen.get(id)} in the same team`);
    seen.set(id, key);
  }
  for (const [key, grant] of Object.entries(cfg.tokens)) {
    if (!cfg.teams[grant.team_id]) throw new ConfigError(`Invalid config file ${source} at /tokens/${redactKey(key)}/team_id: unknown team "${grant.team_id}"`);
  }
  if (cfg.anonymous && !cfg.teams[cfg.anonymous.team_id]) {
    throw new ConfigError(`Invalid config file ${source} at /anonymous/team_id: unknown team "${cfg.anonymous.team_id}"`);
  }
  // Sandboxed servers share the host's loopback network, so token-less loopback access would let
  // one team's server reach another team's endpoint: anonymous access is for single-team setups.
  if (cfg.anonymous && Object.keys(cfg.teams).length > 1) {
    throw new ConfigError(`Invalid config file ${source} at /anonymous: token-less access is only allowed when the config has a single team (it has ${Object.keys(cfg.teams).length}); give each team tokens instead`);
  }
  return cfg;
}

// A token is a secret even inside an error message.
function redactKey(key: string): string {
  return key.startsWith('sha256:') ? key : `${key.slice(0, 4)}…`;
}

/**
 * `${SATELLITE_NODE_MODULES}` in a stdio server's command or args stands for the satellite's own
 * node_modules (absolute), which the sandbox mounts read-only at the same path: servers installed
 * as npm dependencies run without network access or a path that depends on the checkout.
 */
export function expandPlaceholders(cfg: StandaloneConfig, nodeModulesDir: string): StandaloneConfig {
  const expand = (s: string) => s.split('${SATELLITE_NODE_MODULES}').join(nodeModulesDir);
  for (const server of Object.values(cfg.mcp_servers)) {
    if (server.command) server.command = expand(server.command);
    if (server.args) server.args = server.args.map(expand);
  }
  return cfg;
}

export function loadStandaloneConfig(path: string, nodeModulesDir = resolve('node_modules')): StandaloneConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(`Cannot read config file ${path} (SATELLITE_CONFIG): ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(`Invalid config file ${path}: not valid JSON (${(err as Error).message})`);
  }
  return expandPlaceholders(parseStandaloneConfig(doc, path), nodeModulesDir);
}
