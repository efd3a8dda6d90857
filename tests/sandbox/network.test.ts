// `network: "none"` gives a server its own network namespace under bwrap: the host's loopback
// (and so the satellite's own port) is out of reach, while the default shares the host network.
import { createServer, type Server } from 'node:net';
import { copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSandboxDriver } from '../../src/sandbox/factory';
import { findOnPath } from '../../src/sandbox/policy';
import type { SandboxDriver } from '../../src/sandbox/types';
import { FIXTURES, memoryLog, request, sandboxEnv, tempDataDir } from './helpers';
import { lastJson, runPlan } from './run-plan';

if (!findOnPath('bwrap', '/usr/bin:/bin:/usr/local/bin')) throw new Error('bubblewrap (bwrap) is not installed: these tests need it (apt-get install bubblewrap)');

const data = tempDataDir();
let driver: SandboxDriver;
let listener: Server;
let port: number;

beforeAll(async () => {
  driver = createSandboxDriver(sandboxEnv(data.dir, { SANDBOX: 'bwrap' }), memoryLog());
  const dir = join(data.dir, 'teams', 'team-a');
  mkdirSync(dir, { recursive: true });
  copyFileSync(join(FIXTURES, 'net-probe.mjs'), join(dir, 'net-probe.mjs'));
  listener = createServer((s) => s.end());
  await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
  port = (listener.address() as { port: number }).port;
});
afterAll(async () => {
  await new Promise((resolve) => listener.close(resolve));
  data.remove();
});

const reach = async (network?: 'host' | 'none') => {
  const plan = await driver.plan(request({ args: ['/home/mcp/net-probe.mjs', '127.0.0.1', String(port)], ...(network ? { network } : {}) }));
  return lastJson<{ connected: boolean; error?: string }>(await runPlan(plan));
};

describe('bwrap driver: network', () => {
  it('shares the host network by default, loopback included', async () => {
    expect(await reach()).toEqual({ connected: true });
    expect(await reach('host')).toEqual({ connected: true });
  });

  it('cuts a server with network "none" off the host loopback', async () => {
    const r = await reach('none');
    expect(r.connected).toBe(false);
    expect(r.error).toMatch(/ECONNREFUSED|ENETUNREACH|EADDRNOTAVAIL/);
  });
});
