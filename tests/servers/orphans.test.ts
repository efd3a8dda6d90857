import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { describe, expect, it } from 'vitest';
import { isAlive, waitFor } from './helpers';

const HARNESS = resolve(__dirname, '../fixtures/servers/registry-harness.ts');

describe('no orphans', () => {
  it('children die with a SIGKILLed satellite', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'satellite-orphans-'));
    const harness = spawn('npx', ['tsx', HARNESS, dataDir], { stdio: ['ignore', 'pipe', 'inherit'], detached: true });
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
      pids = report.pids;
      expect(pids.every(isAlive)).toBe(true);
      // npx runs tsx which runs node: kill the whole chain at once, as an OOM killer would the satellite.
      process.kill(-harness.pid!, 'SIGKILL');
    } catch (err) {
      harness.kill('SIGKILL');
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
