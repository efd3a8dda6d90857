import { spawn } from 'node:child_process';
import type { SandboxSpawnPlan } from '../../src/sandbox/types';

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Spawns a plan the way process supervision does (detached, attach, cleanup), bounded by `timeoutMs`. */
export async function runPlan(plan: SandboxSpawnPlan, timeoutMs = 10_000): Promise<RunResult> {
  const child = spawn(plan.command, plan.args, { env: plan.env, cwd: plan.cwd, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code, signal) => resolve({ code, signal }));
  });
  if (child.pid !== undefined) await plan.attach?.(child.pid);
  const timer = setTimeout(() => {
    if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
  }, timeoutMs);
  try {
    const { code, signal } = await exited;
    return { code, signal, stdout, stderr };
  } finally {
    clearTimeout(timer);
    await plan.cleanup?.();
  }
}

/** Parses the last JSON line a probe printed; fails with its output when there is none. */
export function lastJson<T>(r: RunResult): T {
  const line = r.stdout.trim().split('\n').pop();
  if (!line) throw new Error(`no output (code ${r.code}, signal ${r.signal}); stderr: ${r.stderr}`);
  return JSON.parse(line) as T;
}
