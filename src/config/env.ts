import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { SandboxLimits } from '../sandbox/types';
import { ConfigError } from './config-error';
import { ENV_SPEC, type EnvVarSpec } from './env-spec';

export type RawEnv = Record<string, string | undefined>;

export interface EnvConfig {
  port: number;
  host: string;
  nodeEnv: 'development' | 'production' | 'test';
  logLevel: string;
  configFile: string;
  dataDir: string;
  allowInsecureBind: boolean;
  corsOrigins: string[];
  bodyLimit: number;
  /** Receiving one whole request (headers and body); not the response, so streams are unaffected. */
  httpRequestTimeoutMs: number;
  sandbox: 'auto' | 'none' | 'bwrap' | 'nsjail';
  allowedCommands: string[];
  limits: SandboxLimits;
  process: { idleTimeoutSeconds: number; spawnGraceSeconds: number; requestTimeoutMs: number; /** Unset: 10x the request timeout. */ maxRequestTimeoutMs?: number;
    toolCacheRefreshSeconds: number; healthProbeSeconds: number; healthProbeTimeoutMs: number };
  sessions: { idleTimeoutSeconds: number; maxSessions: number; maxSessionsPerTeam: number; keepAliveSeconds: number };
  backend: {
    url?: string;
    satelliteName?: string;
    registrationToken?: string;
    satelliteUrl?: string;
    pollingIntervalSeconds: number;
    credentialsFile: string;
  };
  status: { showVersion: boolean; showUptime: boolean };
  events: { batchIntervalMs: number; maxBatchSize: number; maxQueueSize: number; flushTimeoutMs: number };
  oauth: {
    introspectionUrl?: string;
    clientId?: string;
    clientSecret?: string;
    authorizationServers: string[];
    teamClaim: string;
    audience?: string;
    introspectionTimeoutMs: number;
    cacheSize: number;
    cacheTtlSeconds: number;
    negativeCacheTtlSeconds: number;
  };
  teamLimits: { maxConcurrent: number; rps: number; burst: number };
  /** Per team and tool, from the Mcp-Name header of modern requests (src/transports/modern/). */
  toolLimits: { rps: number; burst: number };
  /** Per-team budgets towards the team's servers (src/budgets/); teams may override them in the config file. */
  budgets: { maxConcurrentCalls: number; maxQueuedCalls: number; queueWaitMs: number; memoryMb: number; memoryCheckSeconds: number };
  auditLogFile: string;
  audit: { maxSizeMb: number; maxFiles: number };
  metricsAllowedIps: string[];
  shutdownTimeoutMs: number;
}

type Parsed = string | number | boolean | string[] | undefined;

function parseOne(spec: EnvVarSpec, raw: string | undefined): Parsed {
  const value = raw === undefined || raw === '' ? spec.default : raw.trim();
  if (value === undefined) return undefined;
  const fail = (allowed: string): never => {
    throw new ConfigError(`Invalid environment variable ${spec.name}=${JSON.stringify(value)}: expected ${allowed}`);
  };
  const kind = spec.kind;
  switch (kind.type) {
    case 'int': {
      if (!/^-?\d+$/.test(value)) fail(`an integer from ${kind.min} to ${kind.max}`);
      const n = Number(value);
      if (n < kind.min || n > kind.max) fail(`an integer from ${kind.min} to ${kind.max}`);
      return n;
    }
    case 'enum':
      if (!kind.values.includes(value)) fail(`one of ${kind.values.join(', ')}`);
      return value;
    case 'bool':
      if (!['true', 'false', '1', '0'].includes(value)) fail('true or false');
      return value === 'true' || value === '1';
    case 'url':
      try {
        const u = new URL(value);
        if (u.protocol !== 'http:' && u.protocol !== 'https:') fail('an http(s) URL');
      } catch {
        fail('an http(s) URL');
      }
      return value.replace(/\/+$/, '');
    case 'list':
      return value.split(',').map((s) => s.trim()).filter(Boolean);
    case 'string':
      if (kind.pattern && !kind.pattern.test(value)) fail(kind.hint ?? `a value matching ${kind.pattern}`);
      return value;
  }
}

/** Reads and validates every variable of ENV_SPEC; throws ConfigError naming the first bad one. */
export function loadEnv(env: RawEnv = process.env): EnvConfig {
  const v: Record<string, Parsed> = {};
  for (const spec of ENV_SPEC) v[spec.name] = parseOne(spec, env[spec.name]);
  const nodeEnv = v.NODE_ENV as EnvConfig['nodeEnv'];
  const backendUrl = v.DEPLOYSTACK_BACKEND_URL as string | undefined;
  if (backendUrl) {
    if (v.DEPLOYSTACK_SATELLITE_NAME === undefined) throw new ConfigError('Missing environment variable DEPLOYSTACK_SATELLITE_NAME: required when DEPLOYSTACK_BACKEND_URL is set');
    // A persisted API key makes the (single-use) registration token unnecessary.
    if (v.DEPLOYSTACK_REGISTRATION_TOKEN === undefined && !existsSync(v.DEPLOYSTACK_CREDENTIALS_FILE as string)) {
      throw new ConfigError(`Missing environment variable DEPLOYSTACK_REGISTRATION_TOKEN: required when DEPLOYSTACK_BACKEND_URL is set and no credentials file exists (${String(v.DEPLOYSTACK_CREDENTIALS_FILE)})`);
    }
  }
  return {
    port: v.PORT as number,
    host: v.HOST as string,
    nodeEnv,
    logLevel: (v.LOG_LEVEL as string | undefined) ?? (nodeEnv === 'development' ? 'debug' : 'info'),
    configFile: v.SATELLITE_CONFIG as string,
    dataDir: v.SATELLITE_DATA_DIR as string,
    allowInsecureBind: v.SATELLITE_ALLOW_INSECURE_BIND as boolean,
    corsOrigins: v.SATELLITE_CORS_ORIGINS as string[],
    bodyLimit: v.SATELLITE_BODY_LIMIT_BYTES as number,
    httpRequestTimeoutMs: v.HTTP_REQUEST_TIMEOUT_MS as number,
    sandbox: v.SANDBOX as EnvConfig['sandbox'],
    allowedCommands: v.SATELLITE_ALLOWED_COMMANDS as string[],
    limits: {
      memoryMb: v.SANDBOX_MEMORY_LIMIT_MB as number,
      addressSpaceMb: v.SANDBOX_AS_LIMIT_MB as number,
      cpuSeconds: v.SANDBOX_CPU_SECONDS as number,
      maxProcesses: v.SANDBOX_MAX_PROCESSES as number,
      maxOpenFiles: v.SANDBOX_MAX_OPEN_FILES as number,
      maxFileSizeMb: v.SANDBOX_MAX_FILE_SIZE_MB as number
    },
    process: {
      idleTimeoutSeconds: v.MCP_PROCESS_IDLE_TIMEOUT_SECONDS as number,
      spawnGraceSeconds: v.MCP_PROCESS_SPAWN_GRACE_PERIOD_SECONDS as number,
      requestTimeoutMs: v.MCP_REQUEST_TIMEOUT_MS as number,
      maxRequestTimeoutMs: v.MCP_REQUEST_MAX_TIMEOUT_MS as number | undefined,
      toolCacheRefreshSeconds: v.MCP_TOOL_CACHE_REFRESH_SECONDS as number,
      healthProbeSeconds: v.MCP_HEALTH_PROBE_SECONDS as number,
      healthProbeTimeoutMs: v.MCP_HEALTH_PROBE_TIMEOUT_MS as number
    },
    sessions: {
      idleTimeoutSeconds: v.MCP_SESSION_IDLE_TIMEOUT_SECONDS as number,
      maxSessions: v.MCP_MAX_SESSIONS as number,
      maxSessionsPerTeam: v.MCP_MAX_SESSIONS_PER_TEAM as number,
      keepAliveSeconds: v.MCP_SSE_KEEPALIVE_SECONDS as number
    },
    backend: {
      url: backendUrl,
      satelliteName: v.DEPLOYSTACK_SATELLITE_NAME as string | undefined,
      registrationToken: v.DEPLOYSTACK_REGISTRATION_TOKEN as string | undefined,
      satelliteUrl: v.DEPLOYSTACK_SATELLITE_URL as string | undefined,
      pollingIntervalSeconds: v.DEPLOYSTACK_BACKEND_POLLING_INTERVAL as number,
      credentialsFile: v.DEPLOYSTACK_CREDENTIALS_FILE as string
    },
    status: { showVersion: v.DEPLOYSTACK_STATUS_SHOW_VERSION as boolean, showUptime: v.DEPLOYSTACK_STATUS_SHOW_UPTIME as boolean },
    events: {
      batchIntervalMs: v.EVENT_BATCH_INTERVAL_MS as number,
      maxBatchSize: v.EVENT_MAX_BATCH_SIZE as number,
      maxQueueSize: v.EVENT_MAX_QUEUE_SIZE as number,
      flushTimeoutMs: v.EVENT_FLUSH_TIMEOUT_MS as number
    },
    oauth: {
      introspectionUrl: v.OAUTH_INTROSPECTION_URL as string | undefined,
      clientId: v.OAUTH_CLIENT_ID as string | undefined,
      clientSecret: v.OAUTH_CLIENT_SECRET as string | undefined,
      authorizationServers: v.OAUTH_AUTHORIZATION_SERVERS as string[],
      teamClaim: v.OAUTH_TEAM_CLAIM as string,
      audience: v.OAUTH_AUDIENCE as string | undefined,
      introspectionTimeoutMs: v.OAUTH_INTROSPECTION_TIMEOUT_MS as number,
      cacheSize: v.OAUTH_INTROSPECTION_CACHE_SIZE as number,
      cacheTtlSeconds: v.OAUTH_INTROSPECTION_CACHE_TTL_SECONDS as number,
      negativeCacheTtlSeconds: v.OAUTH_INTROSPECTION_NEGATIVE_TTL_SECONDS as number
    },
    teamLimits: {
      maxConcurrent: v.TEAM_MAX_CONCURRENT_REQUESTS as number,
      rps: v.TEAM_RATE_LIMIT_RPS as number,
      burst: v.TEAM_RATE_LIMIT_BURST as number
    },
    toolLimits: {
      rps: v.TOOL_RATE_LIMIT_RPS as number,
      burst: v.TOOL_RATE_LIMIT_BURST as number
    },
    budgets: {
      maxConcurrentCalls: v.TEAM_MAX_CONCURRENT_SERVER_CALLS as number,
      maxQueuedCalls: v.TEAM_MAX_QUEUED_SERVER_CALLS as number,
      queueWaitMs: v.TEAM_SERVER_CALL_QUEUE_WAIT_MS as number,
      memoryMb: v.TEAM_MEMORY_BUDGET_MB as number,
      memoryCheckSeconds: v.TEAM_MEMORY_CHECK_SECONDS as number
    },
    auditLogFile: (v.AUDIT_LOG_FILE as string | undefined) ?? join(v.SATELLITE_DATA_DIR as string, 'audit.log'),
    audit: { maxSizeMb: v.AUDIT_LOG_MAX_SIZE_MB as number, maxFiles: v.AUDIT_LOG_MAX_FILES as number },
    metricsAllowedIps: v.METRICS_ALLOWED_IPS as string[],
    shutdownTimeoutMs: v.SHUTDOWN_TIMEOUT_MS as number
  };
}
