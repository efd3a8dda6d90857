import { join } from 'node:path';
import { childEnv, confine, prepareRequest, runtimePath, toPlan, type DriverContext } from './prepare';
import { ensureDir } from './team-dir';
import { SandboxError, type SandboxDriver, type SandboxSpawnPlan, type SandboxSpawnRequest } from './types';

/**
 * No isolation (development, or hosts without namespaces): the same allowlist, env clearing and limits
 * as the real sandboxes, but the child sees the host filesystem and process table.
 */
export class NoneDriver implements SandboxDriver {
  readonly name = 'none';

  constructor(private readonly ctx: DriverContext) {}

  async plan(req: SandboxSpawnRequest): Promise<SandboxSpawnPlan> {
    // Without namespaces there is nothing to cut the network with: refuse rather than run unconfined.
    if (req.network === 'none') throw new SandboxError(`server ${req.serverSlug} asks for network "none", which SANDBOX=none cannot provide; use SANDBOX=bwrap or nsjail`);
    const p = await prepareRequest(this.ctx, req);
    const tmp = await ensureDir(join(p.hostDir, '.tmp'));
    const env = childEnv(p.serverEnv, { PATH: runtimePath(p.command), HOME: p.hostDir, TMPDIR: tmp });
    // The child dies with the satellite even if it is SIGKILLed, and cannot gain privileges through setuid binaries.
    const deathSig = this.ctx.tools.setpriv ? [this.ctx.tools.setpriv, '--pdeathsig', 'SIGKILL', '--no-new-privs', '--'] : [];
    const c = await confine(this.ctx, req, [p.command, ...p.args], { innerPrefix: deathSig });
    return toPlan(c, { env, cwd: join(p.hostDir, p.cwdRel), writableDir: p.hostDir });
  }
}
