import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';

export const REPO_ROOT = resolve(__dirname, '../..');

let builtDir: string | undefined;

/**
 * Builds the daemon with webpack once per test file into .cache/ (dist/ is left alone; inside the
 * repo so the bundle resolves node_modules as dist/ would).
 */
export function buildDaemon(): string {
  if (builtDir && existsSync(join(builtDir, 'index.js'))) return builtDir;
  mkdirSync(join(REPO_ROOT, '.cache'), { recursive: true });
  const out = mkdtempSync(join(REPO_ROOT, '.cache', 'test-dist-'));
  execFileSync(process.execPath, [join(REPO_ROOT, 'node_modules/webpack/bin/webpack.js'), '--mode', 'production', '--output-path', out], {
    cwd: REPO_ROOT,
    stdio: 'pipe'
  });
  builtDir = out;
  return out;
}

export interface RunningDaemon {
  child: ChildProcess;
  output(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Starts a built daemon with a clean environment plus `env`. */
export function startDaemon(distDir: string, env: Record<string, string>, cwd = REPO_ROOT): RunningDaemon {
  const child = spawn(process.execPath, [join(distDir, 'index.js')], {
    cwd,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/root', ...env },
    stdio: ['ignore', 'pipe', 'pipe']
  });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((res) => child.on('exit', (code, signal) => res({ code, signal })));
  return { child, output: () => out, exited };
}

/** Polls until `output()` matches, bounded by `timeoutMs`. */
export async function waitForOutput(d: RunningDaemon, pattern: RegExp, timeoutMs = 15_000): Promise<RegExpMatchArray> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const m = d.output().match(pattern);
    if (m) return m;
    if (d.child.exitCode !== null) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`daemon output did not match ${pattern} in ${timeoutMs} ms:\n${d.output()}`);
}

export function removeBuild(): void {
  if (builtDir) rmSync(builtDir, { recursive: true, force: true });
  builtDir = undefined;
}
