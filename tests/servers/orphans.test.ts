import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { describe, expect, it } from 'vitest';
import { isAlive, waitFor } from './helpers';

const HARNESS = resolve(__dirname, '../fixtures/servers/registry-harness.ts');

/** Host pids of processes whose argv contains every one of `parts` (sees inside sandboxes too). */
function processesWith(parts: string[]): number[] {
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid) continue;
    try {
      const argv = readFileSync(`/proc/${name}/cmdline`, 'utf8').split('\0');
      if (parts.every((p) => argv.includes(p))) out.push(Number(name));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

const MEMORY_SERVER = resolve(__dirname, '../../node_modules/@modelcontextprotocol/server-memory/dist/index.js');

describe('no orphans', () => {
  it.each([
    ['none', undefined],
    ['bwrap', MEMORY_SERVER]
  ])('children die with a SIGKILLed satellite (sandbox %s)', async (sandbox, serverScript) => {
    const dataDir = mkdtempSync(join(tmpdir(), 'satellite-orphans-'));
    const env = { ...process.env, HARNESS_SANDBOX: sandbox, ...(serverScript ? { HARNESS_SERVER: serverScript } : {}) };
    const harness = spawn(process.execPath, ['--import', 'tsx', HARNESS, dataDir], { stdio: ['ignore', 'pipe', 'inherit'], detached: true, env });
    let pids: number[] = [];
    try {
      const line = await new Promise<string>((resolveLine, reject) => {
        const timer = setTimeout(() => reject(new Error('harness did not report within 20 s')), 20_000);
        createInterface({ input: harness.stdout }).once('line', (l) => {
          clearTimeout(timer);
          resolveLine(l);
        });
        harness.once('exit', (code) => reject(new Error(`harness exited with ${code}`)));
      });
      const report = JSON.parse(line) as { pids: number[]; statuses: string[] };
      expect(report.statuses).toEqual(['online', 'online']);
      // The servers themselves (inside bwrap they are not the pids we spawned).
      const inner = serverScript ? processesWith([serverScript, '--ignore-term']) : [];
      if (serverScript) expect(inner.length).toBeGreaterThanOrEqual(2);
      pids = [...report.pids, ...inner];
      expect(pids.every(isAlive)).toBe(true);
      // Kill the satellite stand-in without warning, as an OOM killer would.
      process.kill(-harness.pid!, 'SIGKILL');
    } catch (err) {
      // The harness and anything it started in its group.
      try {
        process.kill(-harness.pid!, 'SIGKILL');
      } catch {
        // already gone
      }
      throw err;
    } finally {
      try {
        await waitFor(() => pids.every((p) => !isAlive(p)), 5000, 'children to die');
      } finally {
        for (const p of pids) if (isAlive(p)) process.kill(p, 'SIGKILL');
        rmSync(dataDir, { recursive: true, force: true });
      }
    }
    expect(pids.filter(isAlive)).toEqual([]);
  }, 30_000);
});
