import { join } from 'node:path';
import type { Mount } from './host-binds';
import { prepareJailed, SANDBOX_HOME, type JailOptions } from './jail';
import { confine, toPlan, type DriverContext } from './prepare';
import type { RlimitChoice } from './rlimits';
import type { Argv } from './wrappers';
import { SandboxError, type SandboxDriver, type SandboxSpawnPlan, type SandboxSpawnRequest } from './types';

function pathArg(p: string): string {
  // nsjail splits mount specs on ':'.
  if (p.includes(':')) throw new SandboxError(`Path ${p} contains ':' and cannot be mounted by nsjail`);
  return p;
}

function mountArgs(mounts: readonly Mount[]): string[] {
  return mounts.flatMap((m) =>
    m.kind === 'ro'
      ? ['-R', m.source === m.dest ? pathArg(m.source) : `${pathArg(m.source)}:${pathArg(m.dest)}`]
      : ['--symlink', `${pathArg(m.target)}:${pathArg(m.dest)}`]
  );
}

/**
 * nsjail with the original satellite's layout, minus its defects: secrets never on the command line
 * (`-E KEY` without a value takes it from nsjail's own env, which is exactly the child's), no
 * `--disable_no_new_privs`, and memory/process limits from a cgroup (see cgroups.ts) where the host allows.
 * The network namespace is shared by default (--disable_clone_newnet): servers call remote APIs;
 * `network: "none"` keeps nsjail's own empty one.
 */
export class NsjailDriver implements SandboxDriver {
  readonly name = 'nsjail';

  constructor(private readonly ctx: DriverContext, private readonly opts: JailOptions) {}

  async plan(req: SandboxSpawnRequest): Promise<SandboxSpawnPlan> {
    const p = await prepareJailed(this.ctx, req, this.opts);
    const l = req.limits;
    // nsjail applies rlimits itself (and would impose its own small defaults otherwise), so no prlimit.
    const build = (fallback: RlimitChoice): Argv => [
      this.opts.binary,
      '-Mo', '--quiet',
      '--hostname', `mcp-${req.teamSlug}`,
      '--cwd', join(SANDBOX_HOME, p.cwdRel),
      '--time_limit', '0',
      '--rlimit_as', fallback.addressSpace ? String(l.addressSpaceMb) : 'inf',
      '--rlimit_cpu', String(l.cpuSeconds),
      '--rlimit_fsize', String(l.maxFileSizeMb),
      '--rlimit_nofile', String(l.maxOpenFiles),
      '--rlimit_nproc', fallback.processes ? String(l.maxProcesses) : 'soft',
      ...(req.network === 'none' ? [] : ['--disable_clone_newnet']),
      ...mountArgs(p.mounts),
      '-T', '/tmp',
      '-B', `${pathArg(p.hostDir)}:${SANDBOX_HOME}`,
      ...(p.maskedUsersDir ? ['-T', p.maskedUsersDir] : []),
      '-B', '/dev/null', '-B', '/dev/zero', '-R', '/dev/urandom', '-R', '/dev/random',
      '--symlink', '/proc/self/fd:/dev/fd',
      ...Object.keys(p.env).flatMap((k) => ['-E', k]),
      '--', p.command, ...p.args
    ];
    const c = await confine(this.ctx, req, build, { prlimit: 'none' });
    return toPlan(c, { env: p.env, cwd: p.hostDir, writableDir: p.hostDir });
  }
}
