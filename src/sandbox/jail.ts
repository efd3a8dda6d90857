import { withFiles, type Mount } from './host-binds';
import { childEnv, prepareRequest, runtimePath, type DriverContext, type PreparedRequest } from './prepare';
import { USERS_SUBDIR } from './team-dir';
import type { SandboxSpawnRequest } from './types';

/** Where the team's (or user's) writable directory appears inside a jail; also HOME and the default cwd. */
export const SANDBOX_HOME = '/home/mcp';

export interface JailOptions {
  /** Absolute path of the bwrap or nsjail binary. */
  binary: string;
  /** System, node runtime and node_modules mounts (runtimeMounts), computed once at startup. */
  runtime: readonly Mount[];
}

export interface JailedRequest extends PreparedRequest {
  mounts: Mount[];
  env: Record<string, string>;
  /** For team-wide servers: the path inside to cover with an empty tmpfs, so per-user files stay private. */
  maskedUsersDir?: string;
}

/** What bwrap and nsjail share: the validated request, the read-only host mounts and the child's env as seen inside. */
export async function prepareJailed(ctx: DriverContext, req: SandboxSpawnRequest, opts: JailOptions): Promise<JailedRequest> {
  const p = await prepareRequest(ctx, req);
  const mounts = withFiles(opts.runtime, [p.command, ctx.tools.prlimit]);
  const env = childEnv(p.serverEnv, { PATH: runtimePath(p.command), HOME: SANDBOX_HOME, TMPDIR: '/tmp' });
  return { ...p, mounts, env, ...(p.teamWide ? { maskedUsersDir: `${SANDBOX_HOME}/${USERS_SUBDIR}` } : {}) };
}
