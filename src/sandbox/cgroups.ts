import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, rmdirSync, statSync, writeFileSync } from 'node:fs';
import { readFile, rmdir, writeFile, mkdir } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { SandboxLog } from './log';
import type { SandboxLimits } from './types';

// Memory and process limits per spawned server, in a child of the satellite's own cgroup.
// cgroup v2 is preferred; hybrid hosts (v1 memory/pids hierarchies, an empty v2 tree) use v1.
// Detection probes by creating and removing a group, so a read-only or undelegated tree falls back
// to rlimits instead of failing spawns.

type Controller = 'memory' | 'pids';

interface Placement {
  version: 1 | 2;
  /** The satellite's own group in this hierarchy. */
  dir: string;
  controllers: Controller[];
}

export interface CgroupHandle {
  readonly memory: boolean;
  readonly pids: boolean;
  /** argv prefix that moves the process into the group before it execs (closes the fork-before-attach race). */
  joinPrefix(sh: string): string[];
  attach(pid: number): Promise<void>;
  /** Kills stragglers left in the group, then removes it. */
  cleanup(): Promise<void>;
}

export interface CgroupManager {
  /** e.g. "v2" or "v1(memory,pids)" for the startup log. */
  readonly description: string;
  readonly memory: boolean;
  readonly pids: boolean;
  create(name: string, limits: SandboxLimits): Promise<CgroupHandle | undefined>;
  /** Groups this satellite currently holds (diagnostics, leak checks). */
  ownGroups(): string[];
}

interface MountInfo { root: string; mountPoint: string; fsType: string; superOptions: string[] }

function parseMountInfo(text: string): MountInfo[] {
  const out: MountInfo[] = [];
  for (const line of text.split('\n')) {
    const [left, right] = line.split(' - ');
    if (!left || !right) continue;
    const f = left.split(' ');
    const r = right.split(' ');
    const unescape = (s: string) => s.replace(/\\(\d{3})/g, (_m, o: string) => String.fromCharCode(parseInt(o, 8)));
    if (f[3] === undefined || f[4] === undefined || r[0] === undefined) continue;
    out.push({ root: unescape(f[3]), mountPoint: unescape(f[4]), fsType: r[0], superOptions: (r[2] ?? '').split(',') });
  }
  return out;
}

function ownDir(mount: MountInfo, path: string): string | undefined {
  const rel = relative(mount.root, path);
  if (rel.startsWith('..')) return undefined;
  return join(mount.mountPoint, rel);
}

function limitFiles(p: Placement, c: Controller, limits: SandboxLimits): [file: string, value: string, required: boolean][] {
  const mem = String(limits.memoryMb * 1024 * 1024);
  if (c === 'pids') return [['pids.max', String(limits.maxProcesses), true]];
  // Swap would let a hog outlive its limit; the swap files are absent when swap accounting is off.
  if (p.version === 2) return [['memory.max', mem, true], ['memory.swap.max', '0', false]];
  return [['memory.limit_in_bytes', mem, true], ['memory.memsw.limit_in_bytes', mem, false]];
}

/** Probes one placement by creating a throwaway group with the limits written; returns the controllers that work. */
function probe(p: Placement): Controller[] {
  const dir = join(p.dir, `satellite-${process.pid}-probe-${randomBytes(3).toString('hex')}`);
  const ok: Controller[] = [];
  try {
    mkdirSync(dir);
  } catch {
    return ok;
  }
  try {
    const limits: SandboxLimits = { memoryMb: 64, addressSpaceMb: 0, cpuSeconds: 1, maxProcesses: 8, maxOpenFiles: 0, maxFileSizeMb: 0 };
    for (const c of p.controllers) {
      try {
        for (const [file, value, required] of limitFiles(p, c, limits)) {
          try {
            writeFileSync(join(dir, file), value);
          } catch (err) {
            if (required) throw err;
          }
        }
        ok.push(c);
      } catch {
        // controller not usable here
      }
    }
  } finally {
    try {
      rmdirSync(dir);
    } catch {
      // an empty probe group always goes; nothing to do if the host says otherwise
    }
  }
  return ok;
}

/** Where the satellite's own processes go when its group must delegate controllers (see enableForChildren). */
const MAIN_LEAF = 'satellite-main';

/**
 * Enables the controllers for child groups. A v2 group holding processes cannot (EBUSY, the "no internal
 * processes" rule), which is the normal case for a systemd service with Delegate=yes: there, and only
 * there (a *.service group), the satellite moves itself into a leaf first, as systemd's delegation model
 * expects. Anything else is left alone and the probe decides.
 */
function enableForChildren(dir: string, wanted: readonly Controller[]): void {
  const enable = () => {
    const enabled = readFileSync(join(dir, 'cgroup.subtree_control'), 'utf8').trim().split(/\s+/);
    const missing = wanted.filter((c) => !enabled.includes(c));
    if (missing.length > 0) writeFileSync(join(dir, 'cgroup.subtree_control'), missing.map((c) => `+${c}`).join(' '));
  };
  try {
    enable();
    return;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EBUSY' || !dir.endsWith('.service')) return;
  }
  try {
    const leaf = join(dir, MAIN_LEAF);
    mkdirSync(leaf, { recursive: true });
    writeFileSync(join(leaf, 'cgroup.procs'), String(process.pid));
    enable();
  } catch {
    // e.g. another process shares the service's group: the probe decides
  }
}

function v2Placement(mounts: MountInfo[], selfCgroup: string[]): Placement | undefined {
  const path = selfCgroup.find((l) => l.startsWith('0::'))?.slice(3);
  const mount = mounts.find((m) => m.fsType === 'cgroup2');
  if (path === undefined || !mount) return undefined;
  const dir = ownDir(mount, path);
  if (!dir) return undefined;
  let available: string[];
  try {
    available = readFileSync(join(dir, 'cgroup.controllers'), 'utf8').trim().split(/\s+/);
  } catch {
    return undefined;
  }
  const wanted = (['memory', 'pids'] as const).filter((c) => available.includes(c));
  if (wanted.length === 0) return undefined;
  enableForChildren(dir, wanted);
  return { version: 2, dir, controllers: wanted };
}

function v1Placements(mounts: MountInfo[], selfCgroup: string[]): Placement[] {
  const out: Placement[] = [];
  for (const c of ['memory', 'pids'] as const) {
    const line = selfCgroup.find((l) => l.split(':')[1]?.split(',').includes(c));
    const mount = mounts.find((m) => m.fsType === 'cgroup' && m.superOptions.includes(c));
    if (!line || !mount) continue;
    const dir = ownDir(mount, line.split(':').slice(2).join(':'));
    if (dir) out.push({ version: 1, dir, controllers: [c] });
  }
  return out;
}

class Group implements CgroupHandle {
  constructor(private readonly dirs: string[], readonly memory: boolean, readonly pids: boolean, private readonly log: SandboxLog) {}

  joinPrefix(sh: string): string[] {
    // A fixed script: the group files and the command arrive as positional parameters, never parsed by the shell.
    const writes = this.dirs.map((_d, i) => `echo $$ > "$${i + 1}"`).join(' && ');
    return [sh, '-c', `${writes} && shift ${this.dirs.length} && exec "$@"`, 'sandbox-join', ...this.dirs.map((d) => join(d, 'cgroup.procs'))];
  }

  async attach(pid: number): Promise<void> {
    // Idempotent after joinPrefix; kept for spawns without /bin/sh.
    for (const d of this.dirs) await writeFile(join(d, 'cgroup.procs'), String(pid)).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'ESRCH') throw err;
    });
  }

  async cleanup(): Promise<void> {
    for (const d of this.dirs) {
      for (let attempt = 0; attempt < 40; attempt++) {
        const pids = (await readFile(join(d, 'cgroup.procs'), 'utf8').catch(() => '')).split('\n').filter(Boolean).map(Number);
        for (const pid of pids) {
          try {
            process.kill(pid, 'SIGKILL');
          } catch {
            // already gone
          }
        }
        try {
          await rmdir(d);
          break;
        } catch (err) {
          const code = (err as NodeJS.ErrnoException).code;
          if (code === 'ENOENT') break;
          if (attempt === 39) this.log.warn({ cgroup: d, code }, 'could not remove sandbox cgroup');
          else await sleep(25);
        }
      }
    }
  }
}

class Manager implements CgroupManager {
  readonly memory: boolean;
  readonly pids: boolean;
  readonly description: string;

  constructor(private readonly placements: Placement[], private readonly log: SandboxLog) {
    this.memory = placements.some((p) => p.controllers.includes('memory'));
    this.pids = placements.some((p) => p.controllers.includes('pids'));
    this.description = placements.map((p) => `v${p.version}(${p.controllers.join(',')})`).join(' ');
  }

  ownGroups(): string[] {
    const prefix = `satellite-${process.pid}-`;
    return this.placements.flatMap((p) => {
      try {
        return readdirSync(p.dir).filter((e) => e.startsWith(prefix)).map((e) => join(p.dir, e));
      } catch {
        return [];
      }
    });
  }

  async create(name: string, limits: SandboxLimits): Promise<CgroupHandle | undefined> {
    const leaf = `satellite-${process.pid}-${name.toLowerCase().replace(/[^a-z0-9_-]/g, '_').slice(0, 60)}-${randomBytes(4).toString('hex')}`;
    const dirs: string[] = [];
    const group = (): Group => new Group(dirs, this.memory, this.pids, this.log);
    try {
      for (const p of this.placements) {
        const dir = join(p.dir, leaf);
        await mkdir(dir);
        dirs.push(dir);
        for (const c of p.controllers) {
          for (const [file, value, required] of limitFiles(p, c, limits)) {
            await writeFile(join(dir, file), value).catch((err: unknown) => {
              if (required) throw err;
            });
          }
        }
      }
      return group();
    } catch (err) {
      this.log.warn({ err, cgroup: leaf }, 'could not create sandbox cgroup; falling back to rlimits for this process');
      await group().cleanup();
      return undefined;
    }
  }
}

const STALE_AFTER_MS = 60_000;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Removes groups a previous satellite left behind (it crashed, or a plan was never spawned): only empty
 * ones (rmdir refuses others), whose owner pid is gone, older than a minute so a neighbour satellite's
 * just-created group is never touched. Processes are never killed here.
 */
function sweepStale(dir: string, now: number): number {
  let removed = 0;
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return 0;
  }
  for (const entry of entries) {
    const owner = /^satellite-(\d+)-/.exec(entry)?.[1];
    if (!owner || alive(Number(owner))) continue;
    const path = join(dir, entry);
    try {
      if (now - statSync(path).mtimeMs < STALE_AFTER_MS) continue;
      rmdirSync(path);
      removed++;
    } catch {
      // not empty, or not ours to remove
    }
  }
  return removed;
}

export interface CgroupSources {
  mountInfo?: string;
  selfCgroup?: string;
}

/** Finds where this host lets us create limited child groups; undefined when nowhere (rlimits only). */
export function detectCgroups(log: SandboxLog, sources: CgroupSources = {}): CgroupManager | undefined {
  let mountInfo: string;
  let selfCgroup: string[];
  try {
    mountInfo = sources.mountInfo ?? readFileSync('/proc/self/mountinfo', 'utf8');
    selfCgroup = (sources.selfCgroup ?? readFileSync('/proc/self/cgroup', 'utf8')).split('\n').filter(Boolean);
  } catch {
    return undefined;
  }
  const mounts = parseMountInfo(mountInfo);
  const candidates: Placement[][] = [];
  const v2 = v2Placement(mounts, selfCgroup);
  if (v2) candidates.push([v2]);
  candidates.push(v1Placements(mounts, selfCgroup));
  for (const placements of candidates) {
    const usable = placements.map((p) => ({ ...p, controllers: probe(p) })).filter((p) => p.controllers.length > 0);
    if (usable.length === 0) continue;
    const swept = usable.reduce((n, p) => n + sweepStale(p.dir, Date.now()), 0);
    if (swept > 0) log.info({ swept }, 'removed stale sandbox cgroups');
    return new Manager(usable, log);
  }
  return undefined;
}
