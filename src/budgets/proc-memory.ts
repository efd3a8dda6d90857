// Resident memory of a process and all its descendants, read from /proc (a sandboxed server is
// a wrapper (bwrap) plus the server plus whatever it forks: the whole tree counts).
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** Parent of every live process, read once per sample (processes may vanish while we read). */
export function readParents(procDir = '/proc'): Map<number, number[]> {
  const children = new Map<number, number[]>();
  let names: string[];
  try {
    names = readdirSync(procDir);
  } catch {
    return children;
  }
  for (const name of names) {
    if (!/^\d+$/.test(name)) continue;
    let stat: string;
    try {
      stat = readFileSync(join(procDir, name, 'stat'), 'utf8');
    } catch {
      continue;
    }
    // The command name may contain spaces and parentheses: fields start after the last ')'.
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    if (!Number.isInteger(ppid)) continue;
    const list = children.get(ppid) ?? [];
    list.push(Number(name));
    children.set(ppid, list);
  }
  return children;
}

function rssBytes(procDir: string, pid: number): number {
  try {
    const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(join(procDir, String(pid), 'status'), 'utf8'));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/** RSS of `pid` and its descendants in bytes (0 when it is gone). */
export function treeRssBytes(pid: number, children: Map<number, number[]>, procDir = '/proc'): number {
  let total = 0;
  const seen = new Set<number>();
  const stack = [pid];
  while (stack.length > 0) {
    const p = stack.pop()!;
    if (seen.has(p)) continue;
    seen.add(p);
    total += rssBytes(procDir, p);
    stack.push(...(children.get(p) ?? []));
  }
  return total;
}

/**
 * Memory charged to the cgroup a process was put in (memory.current on v2, memory.usage_in_bytes
 * on v1; page cache included, as the kernel counts it against memory.max). Only meaningful when
 * the sandbox gave the server a cgroup of its own; undefined when it cannot be read.
 */
export function cgroupMemoryBytes(pid: number, procDir = '/proc', cgroupRoot = '/sys/fs/cgroup'): number | undefined {
  let lines: string[];
  try {
    lines = readFileSync(join(procDir, String(pid), 'cgroup'), 'utf8').split('\n');
  } catch {
    return undefined;
  }
  const v1 = lines.map((l) => l.split(':')).find((f) => f[1]?.split(',').includes('memory'));
  const v2 = lines.map((l) => l.split(':')).find((f) => f[0] === '0' && f[1] === '');
  const file = v1?.[2] !== undefined ? join(cgroupRoot, 'memory', v1[2], 'memory.usage_in_bytes')
    : v2?.[2] !== undefined ? join(cgroupRoot, v2[2], 'memory.current') : undefined;
  if (file === undefined) return undefined;
  try {
    const n = Number(readFileSync(file, 'utf8').trim());
    return Number.isFinite(n) && n >= 0 ? n : undefined;
  } catch {
    return undefined;
  }
}

/** What a server weighs: its own cgroup's charge when the sandbox gave it one, else its process tree's RSS; 0 when not running. */
export function serverMemoryBytes(snap: { pid?: number; memoryEnforcement?: string }, parents: Map<number, number[]>, procDir = '/proc', cgroupRoot?: string): number {
  if (snap.pid === undefined) return 0;
  const charged = snap.memoryEnforcement === 'cgroup' ? cgroupMemoryBytes(snap.pid, procDir, cgroupRoot) : undefined;
  return charged ?? treeRssBytes(snap.pid, parents, procDir);
}
