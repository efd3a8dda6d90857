import { afterAll, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { cgroupMemoryBytes, readParents, treeRssBytes } from '../../src/budgets/proc-memory';

const dir = mkdtempSync(join(tmpdir(), 'satellite-proc-memory-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function write(path: string, text: string): void {
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, text);
}

describe('process memory', () => {
  it('counts a real process tree: a parent holding a child holding 64 MB weighs more than the parent alone', async () => {
    const script = `const c = require('child_process').spawn(process.execPath, ['-e', 'globalThis.b = Buffer.alloc(64 * 1024 * 1024, 1); console.log("ready"); setInterval(() => {}, 1000)'], { stdio: ['ignore', 'inherit', 'inherit'] }); setInterval(() => {}, 1000)`;
    const parent = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('child not ready in 5 s')), 5000);
        parent.stdout!.on('data', (d: Buffer) => {
          if (d.toString().includes('ready')) {
            clearTimeout(timer);
            resolve();
          }
        });
      });
      const parents = readParents();
      expect(parents.get(parent.pid!)?.length).toBe(1);
      const alone = treeRssBytes(parent.pid!, new Map());
      const tree = treeRssBytes(parent.pid!, parents);
      expect(alone).toBeGreaterThan(0);
      expect(tree - alone).toBeGreaterThan(60 * 1024 * 1024);
    } finally {
      parent.kill('SIGKILL');
    }
    expect(treeRssBytes(999_999_999, new Map())).toBe(0);
  });

  it('reads the cgroup of a process on v2 and v1 layouts, and nothing from a missing one', () => {
    const proc = join(dir, 'proc');
    const cg = join(dir, 'cgroup');
    write(join(proc, '10', 'cgroup'), '0::/satellite/servers/srv-10\n');
    write(join(cg, 'satellite/servers/srv-10/memory.current'), '5242880\n');
    write(join(proc, '11', 'cgroup'), '12:pids:/sat/srv-11\n9:memory:/sat/srv-11\n0::/\n');
    write(join(cg, 'memory/sat/srv-11/memory.usage_in_bytes'), '1048576\n');
    write(join(proc, '12', 'cgroup'), '0::/gone\n');
    expect(cgroupMemoryBytes(10, proc, cg)).toBe(5 * 1024 * 1024);
    expect(cgroupMemoryBytes(11, proc, cg)).toBe(1024 * 1024);
    expect(cgroupMemoryBytes(12, proc, cg)).toBeUndefined();
    expect(cgroupMemoryBytes(13, proc, cg)).toBeUndefined();
  });
});
