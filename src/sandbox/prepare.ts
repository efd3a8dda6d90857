import { join } from 'node:path';
import { checkArgs, resolveCommand, sanitizeServerEnv } from './policy';
import { prlimitOptions } from './rlimits';
import { ensureDir, relativeCwd, writableDirFor } from './team-dir';
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
}

/** Validation shared by all drivers: allowlist, argv, env blocklist, the team/user directory. */
export async function prepareRequest(ctx: DriverContext, req: SandboxSpawnRequest): Promise<PreparedRequest> {
  const command = resolveCommand(req.command, ctx.allowedCommands, ctx.hostPath);
  const args = checkArgs(req.args);
  const serverEnv = sanitizeServerEnv(req.env);
  const cwdRel = relativeCwd(req.cwd);
  const hostDir = await ensureDir(writableDirFor(ctx.dataDir, req.teamId, req.userId));
  await ensureDir(join(hostDir, cwdRel));
  return { command, args, serverEnv, hostDir, cwdRel };
}

/** The env a child gets: exactly the server's env plus a minimal PATH/HOME/TMPDIR. */
export function childEnv(serverEnv: Record<string, string>, fixed: { PATH: string; HOME: string; TMPDIR: string }): Record<string, string> {
  return { ...serverEnv, ...fixed, LANG: serverEnv.LANG ?? 'C.UTF-8' };
}

export interface Confinement {
  argv: Argv;
  memoryEnforcement: SandboxSpawnPlan['memoryEnforcement'];
  attach?(pid: number): Promise<void>;
  cleanup?(): Promise<void>;
}

/**
 * Wraps `argv` with limits: a cgroup (joined before exec, so nothing forks outside it) where the host
 * allows one, and prlimit for the rlimits plus the fallbacks for what the cgroup could not cover.
 */
export async function confine(ctx: DriverContext, req: SandboxSpawnRequest, argv: Argv, extraPrefix: readonly string[] = []): Promise<Confinement> {
  const group: CgroupHandle | undefined = ctx.cgroups ? await ctx.cgroups.create(`${req.teamSlug}-${req.serverSlug}`, req.limits) : undefined;
  const memoryByCgroup = group?.memory ?? false;
  const pidsByCgroup = group?.pids ?? false;
  let wrapped = prepend(extraPrefix, argv);
  if (ctx.tools.prlimit) {
    wrapped = prepend([ctx.tools.prlimit, ...prlimitOptions(req.limits, { addressSpace: !memoryByCgroup, processes: !pidsByCgroup }), '--'], wrapped);
  }
  if (group && ctx.tools.sh) wrapped = prepend(group.joinPrefix(ctx.tools.sh), wrapped);
  const memoryEnforcement = memoryByCgroup ? 'cgroup' : ctx.tools.prlimit ? 'rlimit_as' : 'none';
  if (!group) return { argv: wrapped, memoryEnforcement };
  return {
    argv: wrapped,
    memoryEnforcement,
    attach: (pid) => group.attach(pid),
    cleanup: () => group.cleanup()
  };
}

export function toPlan(c: Confinement, rest: Pick<SandboxSpawnPlan, 'env' | 'cwd' | 'writableDir'>): SandboxSpawnPlan {
  const plan: SandboxSpawnPlan = { ...splitArgv(c.argv), ...rest, memoryEnforcement: c.memoryEnforcement };
  if (c.attach) plan.attach = c.attach;
  if (c.cleanup) plan.cleanup = c.cleanup;
  return plan;
}
