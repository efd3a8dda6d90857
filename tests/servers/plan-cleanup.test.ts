// Every sandbox plan that was made (a cgroup, for bwrap) is cleaned up exactly once, on every path.
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { loadEnv } from '../../src/config/env';
import type { McpServerConfig } from '../../src/config/server-config';
import { createSandboxDriver } from '../../src/sandbox/factory';
import type { SandboxDriver, SandboxSpawnRequest } from '../../src/sandbox/types';
import { ServerEventEmitter } from '../../src/servers/events';
import { stdioRuntimeOptions } from '../../src/servers/stdio/options';
import { StdioUpstream } from '../../src/servers/stdio/stdio-upstream';
import { MINI, server, waitFor } from './helpers';

const env = loadEnv({ NODE_ENV: 'test', SANDBOX: 'none', LOG_LEVEL: 'silent', SATELLITE_DATA_DIR: join(tmpdir(), `satellite-test-data-${process.pid}`) });
const log = pino({ level: 'silent' });

/** The real `none` driver, with a cleanup it can count and an optional delay before the plan is ready. */
function countingDriver(opts: { planDelayMs?: number; command?: string } = {}) {
  const inner = createSandboxDriver(env, log);
  const counts = { plans: 0, cleanups: 0 };
  const driver: SandboxDriver = {
    name: inner.name,
    async plan(req: SandboxSpawnRequest) {
      const plan = await inner.plan(req);
      counts.plans++;
      if (opts.planDelayMs) await new Promise((r) => setTimeout(r, opts.planDelayMs));
      return {
        ...plan,
        ...(opts.command !== undefined ? { command: opts.command } : {}),
        cleanup: async () => {
          counts.cleanups++;
        }
      };
    }
  };
  return { driver, counts };
}

function upstream(driver: SandboxDriver, config: McpServerConfig): StdioUpstream {
  const options = stdioRuntimeOptions(env, { startupTimeoutMs: 3000, terminate: { stdinGraceMs: 200, killGraceMs: 200 }, errorRetryMs: 0 });
  return new StdioUpstream({ config, driver, events: new ServerEventEmitter(), log, options });
}

describe('sandbox plan cleanup', () => {
  it('cleans up a plan when the server is stopped while the plan is being made', async () => {
    const { driver, counts } = countingDriver({ planDelayMs: 150 });
    const up = upstream(driver, server('slowplan', [MINI]));
    const starting = up.ensureReady().catch((e: Error) => e);
    await waitFor(() => counts.plans === 1, 2000, 'plan made');
    await up.stop();
    expect(String(await starting)).toMatch(/stopped while starting/);
    await waitFor(() => counts.cleanups === 1, 2000, 'cleanup');
    expect(up.pid).toBeUndefined();
  });

  it('cleans up once when stopped while the process is initializing', async () => {
    const { driver, counts } = countingDriver();
    const up = upstream(driver, server('noinit', [MINI, '--no-init']));
    const starting = up.ensureReady().catch((e: Error) => e);
    await waitFor(() => up.pid !== undefined, 2000, 'spawned');
    await up.stop();
    expect(String(await starting)).toMatch(/stopped while starting/);
    await waitFor(() => counts.cleanups === 1, 2000, 'cleanup');
    await new Promise((r) => setTimeout(r, 300));
    expect(counts).toEqual({ plans: 1, cleanups: 1 });
  });

  it('cleans up when the command cannot be spawned (ENOENT) and when spawn throws', async () => {
    const missing = countingDriver({ command: '/nonexistent/satellite-test-binary' });
    const a = upstream(missing.driver, server('missing', []));
    await expect(a.ensureReady()).rejects.toThrow(/could not be started \(ENOENT\)/);
    await waitFor(() => missing.counts.cleanups === 1, 2000, 'cleanup after ENOENT');

    const invalid = countingDriver({ command: 'no\0de' });
    const b = upstream(invalid.driver, server('invalid', []));
    await expect(b.ensureReady()).rejects.toThrow(/failed to start/);
    await waitFor(() => invalid.counts.cleanups === 1, 2000, 'cleanup after a throwing spawn');
    await a.close();
    await b.close();
    expect(missing.counts).toEqual({ plans: 1, cleanups: 1 });
    expect(invalid.counts).toEqual({ plans: 1, cleanups: 1 });
  });

  it('cleans up each process of a restart once, and the last one on close', async () => {
    const { driver, counts } = countingDriver();
    const up = upstream(driver, server('cycle', [MINI]));
    await up.ensureReady();
    await up.restart();
    expect(up.status).toBe('online');
    await up.close();
    await waitFor(() => counts.cleanups === 2, 2000, 'cleanups');
    expect(counts).toEqual({ plans: 2, cleanups: 2 });
  });
});
