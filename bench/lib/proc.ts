// Child processes under test and what /proc says about them (RSS, CPU time, children).
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { createServer } from 'node:net';

let clockTicks: number | undefined;
function ticksPerSecond(): number {
  if (clockTicks === undefined) {
    try {
      clockTicks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      clockTicks = 100;
    }
  }
  return clockTicks;
}

/** Fields of /proc/<pid>/stat after the command name (index 0 is the state). */
function statFields(pid: number): string[] | undefined {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return s.slice(s.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

/** Resident set size in KiB (VmRSS), or NaN when the process is gone. */
export function rssKiB(pid: number): number {
  try {
    const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : NaN;
  } catch {
    return NaN;
  }
}

/** User + system CPU time of the process itself (not its children), in ms. */
export function cpuMs(pid: number): number {
  const f = statFields(pid);
  if (!f) return NaN;
  return ((Number(f[11]) + Number(f[12])) * 1000) / ticksPerSecond();
}

/** Direct children of a process, from every /proc/<pid>/stat's ppid. */
export function childrenOf(pid: number): number[] {
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const f = statFields(Number(name));
    if (f && Number(f[1]) === pid) out.push(Number(name));
  }
  return out;
}

/** A process and all its descendants. */
export function processTree(pid: number): number[] {
  const all = [pid];
  for (let i = 0; i < all.length && all.length < 10_000; i++) all.push(...childrenOf(all[i] as number));
  return all;
}

export function cmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim();
  } catch {
    return '';
  }
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const addr = s.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      s.close(() => resolve(port));
    });
  });
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export interface Spawned {
  child: ChildProcess;
  pid: number;
  /** Last lines of stdout/stderr, for error messages. */
  output(): string;
}

export function startProcess(command: string, args: string[], env: NodeJS.ProcessEnv, cwd?: string): Spawned {
  const child = spawn(command, args, { env, cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  const tail: string[] = [];
  const keep = (d: Buffer): void => {
    tail.push(d.toString('utf8'));
    if (tail.length > 40) tail.shift();
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  if (child.pid === undefined) throw new Error(`could not start ${command}`);
  return { child, pid: child.pid, output: () => tail.join('').slice(-2000) };
}

/** Polls until `probe` resolves true (any HTTP answer from the port, usually), bounded in time. */
export async function waitUntil(what: string, probe: () => Promise<boolean>, p: Spawned, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (p.child.exitCode !== null || p.child.signalCode !== null) throw new Error(`${what} exited (${p.child.exitCode ?? p.child.signalCode}): ${p.output()}`);
    try {
      if (await probe()) return;
    } catch {
      // not listening yet
    }
    await sleep(50);
  }
  throw new Error(`${what} not ready within ${timeoutMs} ms: ${p.output()}`);
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves once the process is gone, with how it ended. */
export async function stopProcess(p: Spawned, graceMs = 3000): Promise<{ ms: number; killed: boolean }> {
  const { child } = p;
  const t0 = performance.now();
  if (child.exitCode !== null || child.signalCode !== null) return { ms: 0, killed: false };
  const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let killed = false;
  child.kill('SIGTERM');
  const timer = setTimeout(() => {
    killed = true;
    child.kill('SIGKILL');
  }, graceMs);
  await gone;
  clearTimeout(timer);
  return { ms: Math.round(performance.now() - t0), killed };
}
