import type { EnvConfig } from '../../config/env';
import type { SandboxLimits } from '../../sandbox/types';
import { VERSION } from '../../version';
import type { TerminateTimings } from './child-process';
import { DEFAULT_CRASH_POLICY, type CrashPolicyOptions } from './crash-policy';

/** Everything about how stdio servers are run that is not in their config entry. */
export interface StdioRuntimeOptions {
  limits: SandboxLimits;
  /** Default per-request timeout (MCP_REQUEST_TIMEOUT_MS); an entry's `timeout` wins. */
  requestTimeoutMs: number;
  /** MCP_REQUEST_MAX_TIMEOUT_MS: how far progress may push a call's deadline (default 10x its timeout). */
  maxRequestTimeoutMs?: number;
  /** Spawn + initialize must finish within this. */
  startupTimeoutMs: number;
  /** 0 = never dormant. */
  idleTimeoutMs: number;
  spawnGraceMs: number;
  /** One stdout message may not be longer (then the server is restarted). */
  maxLineBytes: number;
  /** Bytes waiting for a slow reader's stdin before calls fail. */
  maxStdinQueueBytes: number;
  crashPolicy: CrashPolicyOptions;
  terminate: TerminateTimings;
  /** After a failed start, ensureReady() fails fast for this long instead of respawning. */
  errorRetryMs: number;
  stderr: { maxLines: number; maxLineLength: number; linesPerSecond: number };
  clientInfo: { name: string; version: string };
  now: () => number;
}

export function stdioRuntimeOptions(env: EnvConfig, overrides: Partial<StdioRuntimeOptions> = {}): StdioRuntimeOptions {
  return {
    limits: env.limits,
    requestTimeoutMs: env.process.requestTimeoutMs,
    ...(env.process.maxRequestTimeoutMs !== undefined ? { maxRequestTimeoutMs: env.process.maxRequestTimeoutMs } : {}),
    startupTimeoutMs: Math.max(env.process.requestTimeoutMs, 30_000),
    idleTimeoutMs: env.process.idleTimeoutSeconds * 1000,
    spawnGraceMs: env.process.spawnGraceSeconds * 1000,
    maxLineBytes: 8 * 1024 * 1024,
    maxStdinQueueBytes: 16 * 1024 * 1024,
    crashPolicy: DEFAULT_CRASH_POLICY,
    terminate: { stdinGraceMs: 1000, killGraceMs: 5000 },
    errorRetryMs: 5000,
    stderr: { maxLines: 200, maxLineLength: 1024, linesPerSecond: 20 },
    clientInfo: { name: 'satellite', version: VERSION },
    now: Date.now,
    ...overrides
  };
}
