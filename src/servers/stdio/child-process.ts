import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import type { SandboxSpawnPlan } from '../../sandbox/types';

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Set when the process could not be started at all (ENOENT, EACCES...). */
  error?: Error;
}

export interface TerminateTimings {
  /** How long a server gets to exit by itself once its stdin is closed. */
  stdinGraceMs: number;
  /** How long after SIGTERM before SIGKILL. */
  killGraceMs: number;
}

const PIPE_DRAIN_MS = 250;

function pipesDrained(child: ChildProcessWithoutNullStreams, ms: number): Promise<void> {
  const ended = (s: NodeJS.ReadableStream & { readableEnded: boolean; destroyed: boolean }): Promise<void> =>
    s.readableEnded || s.destroyed ? Promise.resolve() : new Promise((r) => { s.once('end', r); s.once('close', r); });
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    void Promise.all([ended(child.stdout), ended(child.stderr)]).then(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}

/** Signals the whole process group: the server and everything it started. */
export function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // ESRCH: the group is already gone.
  }
}

/** One spawned server process: its own process group, piped stdio, a promise of its exit. */
export class ChildHandle {
  readonly child: ChildProcessWithoutNullStreams;
  readonly exited: Promise<ExitInfo>;
  #exit: ExitInfo | undefined;

  constructor(plan: SandboxSpawnPlan) {
    // detached: the child leads a new process group, so kill(-pid) reaches its descendants too.
    this.child = spawn(plan.command, plan.args, { env: plan.env, cwd: plan.cwd, detached: true, stdio: ['pipe', 'pipe', 'pipe'] });
    this.exited = new Promise<ExitInfo>((resolve) => {
      // `on`, not `once`: a later 'error' (a failed kill) without a listener would crash the satellite.
      this.child.on('error', (error) => {
        // 'error' without a pid means spawn failed and no 'exit' follows.
        if (this.child.pid === undefined) {
          this.#exit = { code: null, signal: null, error };
          resolve(this.#exit);
        }
      });
      this.child.once('exit', (code, signal) => {
        // Leftover grandchildren of a dead server must not outlive it.
        if (this.child.pid !== undefined) killGroup(this.child.pid, 'SIGKILL');
        // Its last output may still sit in the pipes: read it before announcing the exit.
        void pipesDrained(this.child, PIPE_DRAIN_MS).then(() => {
          this.#exit = { code, signal };
          resolve(this.#exit);
        });
      });
    });
    // A child that dies mid-write must not crash the satellite with EPIPE.
    this.child.stdin.on('error', () => {});
    this.child.stdout.on('error', () => {});
    this.child.stderr.on('error', () => {});
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get exit(): ExitInfo | undefined {
    return this.#exit;
  }

  /** Close stdin, then SIGTERM the group, then SIGKILL: resolves once the process has exited. */
  async terminate(t: TerminateTimings): Promise<ExitInfo> {
    if (this.#exit) return this.#exit;
    const pid = this.child.pid;
    if (!this.child.stdin.destroyed && !this.child.stdin.writableEnded) this.child.stdin.end();
    if (await this.#waitExit(t.stdinGraceMs)) return this.#exit!;
    if (pid !== undefined) killGroup(pid, 'SIGTERM');
    if (await this.#waitExit(t.killGraceMs)) return this.#exit!;
    if (pid !== undefined) killGroup(pid, 'SIGKILL');
    return this.exited;
  }

  /** Immediate SIGKILL of the group (framing violations, shutdown deadline). */
  kill(): void {
    if (this.child.pid !== undefined && !this.#exit) killGroup(this.child.pid, 'SIGKILL');
  }

  #waitExit(ms: number): Promise<boolean> {
    if (this.#exit) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), ms);
      void this.exited.then(() => {
        clearTimeout(timer);
        resolve(true);
      });
    });
  }
}
