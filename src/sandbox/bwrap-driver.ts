import { join } from 'node:path';
import { bwrapMountArgs } from './host-binds';
import { prepareJailed, SANDBOX_HOME, type JailOptions } from './jail';
import { confine, toPlan, type DriverContext } from './prepare';
import type { RlimitChoice } from './rlimits';
import type { SandboxDriver, SandboxSpawnPlan, SandboxSpawnRequest } from './types';
import type { Argv } from './wrappers';

/**
 * bubblewrap: new user, pid, uts, ipc and cgroup namespaces; the system read-only, a private /tmp,
 * fresh /proc and minimal /dev, and only the team's directory writable.
 * The network namespace is deliberately shared: servers call remote APIs (see SECURITY.md). That includes
 * 127.0.0.1, so a sandboxed server reaches the satellite's own port: loopback is not a trust boundary.
 * The env is not put on the command line (--setenv would show secrets in /proc/<pid>/cmdline):
 * bwrap is spawned with exactly the child's env and passes it on.
 */
export class BwrapDriver implements SandboxDriver {
  readonly name = 'bwrap';

  constructor(private readonly ctx: DriverContext, private readonly opts: JailOptions) {}

  async plan(req: SandboxSpawnRequest): Promise<SandboxSpawnPlan> {
    const p = await prepareJailed(this.ctx, req, this.opts);
    // prlimit runs inside, after the namespaces exist (see ConfineOptions.prlimit).
    const bwrap = (_fallback: RlimitChoice, prlimit: string[]): Argv => [
      this.opts.binary,
      '--unshare-user', '--unshare-pid', '--unshare-uts', '--unshare-ipc', '--unshare-cgroup-try',
      ...(req.network === 'none' ? ['--unshare-net'] : []),
      '--die-with-parent', '--new-session', '--cap-drop', 'ALL',
      ...bwrapMountArgs(p.mounts),
      '--proc', '/proc',
      '--dev', '/dev',
      '--tmpfs', '/tmp',
      '--bind', p.hostDir, SANDBOX_HOME,
      ...(p.maskedUsersDir ? ['--tmpfs', p.maskedUsersDir] : []),
      '--chdir', join(SANDBOX_HOME, p.cwdRel),
      '--hostname', `mcp-${req.teamSlug}`,
      // bwrap's root is a writable tmpfs; only the home, /tmp and /dev/shm should take writes.
      '--remount-ro', '/',
      '--', ...prlimit, p.command, ...p.args
    ];
    const c = await confine(this.ctx, req, bwrap, { prlimit: 'inner' });
    return toPlan(c, { env: p.env, cwd: p.hostDir, writableDir: p.hostDir });
  }
}
