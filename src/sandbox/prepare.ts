import { dirname, join } from 'node:path';
import { checkArgs, resolveCommand, sanitizeServerEnv } from './policy';
import { prlimitOptions, type RlimitChoice } from './rlimits';
import { ensureDir, relativeCwd, USERS_SUBDIR, writableDirFor } from './team-dir';
import type { SandboxSpawnPlan, SandboxSpawnRequest } from './types';
import { prepend, splitArgv, type Argv, type HostTools } from './wrappers';
import type { CgroupHandle, CgroupManager } from './cgroups';
import type { SandboxLog } from './log';

/** What every driver shares: validated config and host facts, resolved once at startup. */
export interface DriverContext {
  allowedCommands: readonly string[];
  dataDir: string;
  /** The satellite's PATH, used only to resolve allowed command names. */
  hostPath: string | undefined;
  tools: HostTools;
  cgroups?: CgroupManager;
  log: SandboxLog;
}

export interface PreparedRequest {
  command: string;
  args: string[];
  serverEnv: Record<string, string>;
  /** Host directory the server may write to (created). */
  hostDir: string;
  /** cwd relative to hostDir ('' = hostDir). */
  cwdRel: string;
  /** A team-wide server: its directory contains the team's users' directories. */
  teamWide: boolean;
}

/** Validation shared by all drivers: allowlist, argv, env blocklist, the team/user directory. */
export async function prepareRequest(ctx: DriverContext, req: SandboxSpawnRequest): Promise<PreparedRequest> {
  const command = resolveCommand(req.command, ctx.allowedCommands, ctx.hostPath);
  const args = checkArgs(req.args);
  const serverEnv = sanitizeServerEnv(req.env);
  const teamWide = req.userId === undefined;
  const cwdRel = relativeCwd(req.cwd, teamWide);
  const hostDir = await ensureDir(writableDirFor(ctx.dataDir, req.teamId, req.userId));
  await ensureDir(join(hostDir, cwdRel));
  // The mount point the jails mask for team-wide servers (see maskedUsersDir).
  if (teamWide) await ensureDir(join(hostDir, USERS_SUBDIR));
  return { command, args, serverEnv, hostDir, cwdRel, teamWide };
}

/** PATH for a child: the command's own directory first (so `npx` finds the `node` next to it), then the system. */
export function runtimePath(command: string): string {
  return [...new Set([dirname(command), dirname(process.execPath), '/usr/local/bin', '/usr/bin', '/bin'])].join(':');
}

/** The env a child gets: exactly the server's env plus a minimal PATH/HOME/TMPDIR. */
export function childEnv(serverEnv: Record<string, string>, fixed: { PATH: string; HOME: string; TMPDIR: string }): Record<string, string> {
  return { ...serverEnv, ...fixed, LANG: serverEnv.LANG ?? 'C.UTF-8' };
}

export interface Confinement {
  argv: Argv;
  memoryEnforcement: SandboxSpawnPlan['memoryEnforcement'];
  /** The rlimits the cgroup could not replace: a driver that sets rlimits itself (nsjail) adds these. */
  fallback: RlimitChoice;
  attach?(pid: number): Promise<void>;
  cleanup?(): Promise<void>;
}

export interface ConfineOptions {
  /** Wrappers that go innermost, right before the command (e.g. setpriv). */
  innerPrefix?: readonly string[];
  /**
   * outer (default): prlimit wraps everything. inner: the driver places the prlimit prefix itself
   * (bwrap: after the user namespace exists, so RLIMIT_NPROC counts the sandbox's tasks, not every
   * task of the uid, on kernels with per-namespace ucounts). none: the driver applies rlimits itself.
   */
  prlimit?: 'outer' | 'inner' | 'none';
}

export type ArgvBuilder = (fallback: RlimitChoice, prlimitPrefix: string[]) => Argv;

/**
 * Wraps `argv` with limits: a cgroup (joined before exec, so nothing forks outside it) where the host
 * allows one, and prlimit for the rlimits plus the fallbacks for what the cgroup could not cover.
 * `argv` may be a builder, for drivers that place or apply the rlimits themselves.
 */
export async function confine(ctx: DriverContext, req: SandboxSpawnRequest, argv: Argv | ArgvBuilder, opts: ConfineOptions = {}): Promise<Confinement> {
  const group: CgroupHandle | undefined = ctx.cgroups ? await ctx.cgroups.create(`${req.teamSlug}-${req.serverSlug}`, req.limits) : undefined;
  const fallback: RlimitChoice = { addressSpace: !(group?.memory ?? false), processes: !(group?.pids ?? false) };
  const placement = opts.prlimit ?? 'outer';
  const prlimitPrefix = placement !== 'none' && ctx.tools.prlimit ? [ctx.tools.prlimit, ...prlimitOptions(req.limits, fallback), '--'] : [];
  let built: Argv;
  try {
    built = typeof argv === 'function' ? argv(fallback, placement === 'inner' ? prlimitPrefix : []) : argv;
  } catch (err) {
    await group?.cleanup();
    throw err;
  }
  let wrapped = prepend(opts.innerPrefix, built);
  if (placement === 'outer') wrapped = prepend(prlimitPrefix, wrapped);
  if (group && ctx.tools.sh) wrapped = prepend(group.joinPrefix(ctx.tools.sh), wrapped);
  const rlimitsApplied = prlimitPrefix.length > 0 || placement === 'none';
  const memoryEnforcement = !fallback.addressSpace ? 'cgroup' : rlimitsApplied ? 'rlimit_as' : 'none';
  const c: Confinement = { argv: wrapped, memoryEnforcement, fallback };
  if (group) {
    c.attach = (pid) => group.attach(pid);
    c.cleanup = () => group.cleanup();
  }
  return c;
}

export function toPlan(c: Confinement, rest: Pick<SandboxSpawnPlan, 'env' | 'cwd' | 'writableDir'>): SandboxSpawnPlan {
  const plan: SandboxSpawnPlan = { ...splitArgv(c.argv), ...rest, memoryEnforcement: c.memoryEnforcement };
  if (c.attach) plan.attach = c.attach;
  if (c.cleanup) plan.cleanup = c.cleanup;
  return plan;
}
