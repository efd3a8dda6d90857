import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import pino from 'pino';
import { afterEach } from 'vitest';
import { ConfigStore } from '../../src/config/config-store';
import { loadEnv } from '../../src/config/env';
import type { McpServerConfig } from '../../src/config/server-config';
import { parseStandaloneConfig } from '../../src/config/standalone';
import { createSandboxDriver } from '../../src/sandbox/factory';
import type { ServerEvents } from '../../src/servers/events';
import type { UpstreamFactory } from '../../src/servers/managed';
import { ServerRegistry } from '../../src/servers/registry';
import { stdioRuntimeOptions, type StdioRuntimeOptions } from '../../src/servers/stdio/options';

export const MINI = resolve(__dirname, '../fixtures/servers/mini-server.mjs');
export const CONFORMANCE = resolve(__dirname, '../fixtures/conformance-fixture.mjs');

/** A stdio entry running one of the fixtures with node. */
export function server(slug: string, args: string[], extra: Partial<McpServerConfig> = {}): McpServerConfig {
  return {
    installation_id: `inst-${slug}`,
    team_id: 'team-a',
    team_slug: 'alpha',
    server_slug: slug,
    installation_name: `${slug}-alpha`,
    transport_type: 'stdio',
    command: 'node',
    args,
    enabled: true,
    ...extra
  };
}

export function configOf(servers: McpServerConfig[]) {
  const mcp_servers: Record<string, McpServerConfig> = {};
  for (const s of servers) mcp_servers[`${s.team_id}-${s.server_slug}-${s.user_id ?? ''}`] = s;
  return parseStandaloneConfig({ mcp_servers }, 'test');
}

export interface Harness {
  registry: ServerRegistry;
  store: ConfigStore;
  dataDir: string;
  close(): Promise<void>;
}

/** A real registry with the real `none` sandbox driver, fast supervision timings and a silent logger. */
export async function startRegistry(servers: McpServerConfig[], stdio: Partial<StdioRuntimeOptions> = {}, eager = true, remoteFactory?: UpstreamFactory): Promise<Harness> {
  const dataDir = mkdtempSync(join(tmpdir(), 'satellite-servers-'));
  const env = loadEnv({ NODE_ENV: 'test', SANDBOX: 'none', SATELLITE_DATA_DIR: dataDir, LOG_LEVEL: 'silent' });
  const log = pino({ level: 'silent' });
  const store = new ConfigStore(configOf(servers));
  const registry = new ServerRegistry({
    configStore: store,
    driver: createSandboxDriver(env, log),
    log,
    eager,
    ...(remoteFactory ? { remoteFactory } : {}),
    stdio: stdioRuntimeOptions(env, {
      crashPolicy: { backoffMs: [20, 40, 60], maxCrashes: 3, windowMs: 60_000 },
      terminate: { stdinGraceMs: 300, killGraceMs: 300 },
      startupTimeoutMs: 5000,
      requestTimeoutMs: 5000,
      ...stdio
    })
  });
  await registry.start();
  return {
    registry,
    store,
    dataDir,
    close: async () => {
      await registry.closeAll();
      rmSync(dataDir, { recursive: true, force: true });
    }
  };
}

/** Resolves with the first event `name` matching `pred`, or rejects after `ms`. */
export function nextEvent<K extends keyof ServerEvents>(registry: ServerRegistry, name: K, pred: (e: ServerEvents[K][0]) => boolean = () => true, ms = 5000): Promise<ServerEvents[K][0]> {
  return new Promise((resolvePromise, reject) => {
    const timer = setTimeout(() => {
      registry.events.off(name, handler as never);
      reject(new Error(`no ${String(name)} event within ${ms} ms`));
    }, ms);
    const handler = (e: ServerEvents[K][0]): void => {
      if (!pred(e)) return;
      clearTimeout(timer);
      registry.events.off(name, handler as never);
      resolvePromise(e);
    };
    registry.events.on(name, handler as never);
  });
}

/** Polls `check` every 20 ms until it is true, at most `ms`. */
export async function waitFor(check: () => boolean, ms = 5000, what = 'condition'): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export function textOf(result: Record<string, unknown>): any {
  const content = result.content as Array<{ text: string }>;
  return JSON.parse(content[0]!.text);
}

/** A registry per test, closed after it: call inside a describe block. */
export function registryPerTest(): { start: typeof startRegistry } {
  let current: Harness | undefined;
  afterEach(async () => {
    await current?.close();
    current = undefined;
  });
  return {
    start: async (...args) => (current = await startRegistry(...args))
  };
}
