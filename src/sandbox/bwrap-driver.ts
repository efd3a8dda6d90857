import { dirname, join } from 'node:path';
import { bwrapMountArgs, hostMounts } from './host-binds';
import { childEnv, confine, prepareRequest, toPlan, type DriverContext } from './prepare';
import type { SandboxDriver, SandboxSpawnPlan, SandboxSpawnRequest } from './types';

/** Where the team's (or user's) writable directory appears inside; also HOME and the default cwd. */
export const SANDBOX_HOME = '/home/mcp';

export interface BwrapOptions {
  bwrap: string;
  nodeModulesDir?: string;
}

/**
 * bubblewrap: new user, pid, uts, ipc and cgroup namespaces; the system read-only, a private /tmp,
 * fresh /proc and minimal /dev, and only the team's directory writable.
 * The network namespace is deliberately shared: servers call remote APIs (see SECURITY.md).
 * The env is not put on the command line (--setenv would show secrets in /proc/<pid>/cmdline):
 * bwrap is spawned with exactly the child's env and passes it on.
 */
export class BwrapDriver implements SandboxDriver {
  readonly name = 'bwrap';

  constructor(private readonly ctx: DriverContext, private readonly opts: BwrapOptions) {}

  async plan(req: SandboxSpawnRequest): Promise<SandboxSpawnPlan> {
    const p = await prepareRequest(this.ctx, req);
    const mounts = hostMounts({ command: p.command, nodeModulesDir: this.opts.nodeModulesDir });
    const path = [...new Set([dirname(p.command), dirname(process.execPath), '/usr/local/bin', '/usr/bin', '/bin'])].join(':');
    const env = childEnv(p.serverEnv, { PATH: path, HOME: SANDBOX_HOME, TMPDIR: '/tmp' });
    const bwrap = [
      this.opts.bwrap,
      '--unshare-user', '--unshare-pid', '--unshare-uts', '--unshare-ipc', '--unshare-cgroup-try',
      '--die-with-parent', '--new-session', '--cap-drop', 'ALL',
      ...bwrapMountArgs(mounts),
      '--proc', '/proc',
      '--dev', '/dev',
      '--tmpfs', '/tmp',
      '--bind', p.hostDir, SANDBOX_HOME,
      '--chdir', join(SANDBOX_HOME, p.cwdRel),
      '--hostname', `mcp-${req.teamSlug}`,
      // bwrap's root is a writable tmpfs; only the home, /tmp and /dev/shm should take writes.
      '--remount-ro', '/',
      '--', p.command, ...p.args
    ] as [string, ...string[]];
    const c = await confine(this.ctx, req, bwrap);
    return toPlan(c, { env, cwd: p.hostDir, writableDir: p.hostDir });
  }
}
