import { afterAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { createSandboxDriver } from '../../src/sandbox/factory';
import { FIXTURES, memoryLog, request, sandboxEnv, tempDataDir } from './helpers';

const data = tempDataDir();
afterAll(() => data.remove());

/** Pids of live host processes whose environment carries `marker` (and, if given, named `comm`). */
function withMarker(marker: string, comm?: string): number[] {
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      // Zombies count as dead: the container's init may reap them late.
      const state = /\) (\S)/.exec(readFileSync(`/proc/${name}/stat`, 'latin1'))?.[1];
      if (state === 'Z' || !readFileSync(`/proc/${name}/environ`, 'latin1').includes(marker)) continue;
      if (comm === undefined || readFileSync(`/proc/${name}/comm`, 'latin1').trim() === comm) out.push(Number(name));
    } catch {
      // gone or not ours
    }
  }
  return out;
}

async function waitFor(check: () => boolean, ms: number): Promise<boolean> {
  for (const end = Date.now() + ms; Date.now() < end; await sleep(50)) if (check()) return true;
  return check();
}

describe.each(['none', 'bwrap'] as const)('%s driver: children die with the satellite', (sandbox) => {
  it('kills the server when its parent is SIGKILLed', async () => {
    const driver = createSandboxDriver(sandboxEnv(data.dir, { SANDBOX: sandbox }), memoryLog());
    const marker = `SANDBOX_TEST_MARKER_${randomBytes(6).toString('hex')}`;
    const plan = await driver.plan(request({ args: ['-e', 'setTimeout(() => {}, 20000)'], env: { [marker]: '1' } }));
    const parent = spawn(process.execPath, [join(FIXTURES, 'spawn-plan.mjs'), JSON.stringify(plan)], { stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      const pid = await new Promise<number>((resolve, reject) => {
        parent.stdout.once('data', (d: Buffer) => resolve(Number(d.toString().trim())));
        parent.once('exit', () => reject(new Error('parent exited before spawning')));
      });
      expect(pid).toBeGreaterThan(0);
      // Wait for the server itself: the death signal is armed by setpriv/bwrap, a moment after spawn.
      expect(await waitFor(() => withMarker(marker, 'node').length > 0, 5000)).toBe(true);
      parent.kill('SIGKILL');
      expect(await waitFor(() => withMarker(marker).length === 0, 5000), `still alive: ${withMarker(marker).map((p) => readFileSync(`/proc/${p}/stat`, 'latin1')).join(' | ')}`).toBe(true);
    } finally {
      parent.kill('SIGKILL');
      for (const pid of withMarker(marker)) process.kill(pid, 'SIGKILL');
      await plan.cleanup?.();
    }
  });
});
