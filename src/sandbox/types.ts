// The seam between process supervision (src/servers/) and isolation (src/sandbox/): a driver turns
// "run this server for this team" into the exact argv/env to spawn.

export interface SandboxLimits {
  memoryMb: number;
  /** RLIMIT_AS fallback used only when no memory cgroup can be created. */
  addressSpaceMb: number;
  cpuSeconds: number;
  maxProcesses: number;
  maxOpenFiles: number;
  maxFileSizeMb: number;
}

export interface SandboxSpawnRequest {
  teamId: string;
  teamSlug: string;
  serverSlug: string;
  /** Set for per-user instances: they get a directory of their own inside the team's. */
  userId?: string;
  command: string;
  args: string[];
  /** The server's own environment (its credentials); nothing else of the satellite's leaks in. */
  env: Record<string, string>;
  /** Working directory relative to the team (or user) directory; defaults to it. */
  cwd?: string;
  /**
   * `none`: a network namespace of its own (loopback only, nothing reachable outside it), for
   * servers that need no network; default `host`, shared with the host, loopback included.
   */
  network?: 'host' | 'none';
  limits: SandboxLimits;
}

export interface SandboxSpawnPlan {
  command: string;
  args: string[];
  env: Record<string, string>;
  cwd: string;
  /** What enforces memory for this process: shown in the server's status. */
  memoryEnforcement: 'cgroup' | 'rlimit_as' | 'none';
  /** The host directory the server may write to. */
  writableDir: string;
  /** Called after the process has exited (e.g. remove its cgroup). */
  cleanup?(): Promise<void>;
  /** Called with the pid right after spawn (e.g. move it into its cgroup). */
  attach?(pid: number): Promise<void>;
}

export interface SandboxDriver {
  readonly name: 'none' | 'bwrap' | 'nsjail';
  /** Validates the request (command allowlist, env blocklist) and builds the spawn plan; throws SandboxError. */
  plan(req: SandboxSpawnRequest): Promise<SandboxSpawnPlan>;
}

export class SandboxError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SandboxError';
  }
}
