import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { ConfigError } from '../config/config-error';
import type { EnvConfig } from '../config/env';
import { detectCgroups } from './cgroups';
import type { SandboxLog } from './log';
import { BwrapDriver } from './bwrap-driver';
import { NoneDriver } from './none-driver';
import { NsjailDriver } from './nsjail-driver';
import { runtimeMounts, visiblePath } from './host-binds';
import { findOnPath } from './policy';
import type { DriverContext } from './prepare';
import type { SandboxDriver } from './types';
import { findHostTools } from './wrappers';

export interface SandboxFactoryOptions {
  /** PATH used to find allowed commands and the sandbox binaries (default: the satellite's). */
  hostPath?: string;
  /** Mounted read-only inside bwrap/nsjail so servers installed as npm dependencies run (default ./node_modules). */
  nodeModulesDir?: string;
  /** Skip cgroup detection (tests of the rlimit fallback). */
  cgroups?: boolean;
}

const SYSTEM_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** Picks and builds the driver named by SANDBOX; an explicitly requested driver whose binary is missing is a startup error. */
export function createSandboxDriver(env: EnvConfig, log: SandboxLog, opts: SandboxFactoryOptions = {}): SandboxDriver {
  const hostPath = opts.hostPath ?? process.env.PATH;
  const lookup = (name: string) => findOnPath(name, `${hostPath ?? ''}:${SYSTEM_PATH}`);
  let name = env.sandbox;
  if (name === 'auto') name = lookup('nsjail') ? 'nsjail' : env.nodeEnv === 'production' ? 'bwrap' : 'none';
  const binary = name === 'none' ? undefined : lookup(name);
  if (name !== 'none' && !binary) {
    const why = env.sandbox === 'auto' ? 'SANDBOX=auto in production needs nsjail or bwrap' : `SANDBOX=${name} was requested`;
    throw new ConfigError(`Sandbox binary "${name}" not found on PATH: ${why}; install it (${name === 'bwrap' ? 'the bubblewrap package' : 'nsjail'}) or set SANDBOX=none to run servers without isolation`);
  }
  const cgroups = opts.cgroups === false ? undefined : detectCgroups(log);
  const ctx: DriverContext = { allowedCommands: env.allowedCommands, dataDir: resolve(env.dataDir), hostPath, tools: findHostTools(hostPath), log };
  if (cgroups) ctx.cgroups = cgroups;
  const nodeModulesDir = opts.nodeModulesDir ?? resolve('node_modules');
  log.info(
    { sandbox: name, cgroups: cgroups?.description ?? 'unavailable', prlimit: Boolean(ctx.tools.prlimit), setpriv: Boolean(ctx.tools.setpriv) },
    `sandbox driver: ${name}`
  );
  if (!cgroups) log.warn({}, 'no usable memory/pids cgroup: memory is limited by RLIMIT_AS and processes by RLIMIT_NPROC (ignored for root)');
  if (name === 'none') {
    if (env.nodeEnv === 'production') log.warn({}, 'SANDBOX=none in production: stdio servers see the host filesystem and processes of every team');
    return new NoneDriver(ctx);
  }
  const runtime = runtimeMounts({ nodeModulesDir: existsSync(nodeModulesDir) ? nodeModulesDir : undefined });
  // Bare command names must resolve to something that exists inside the jail.
  ctx.hostPath = visiblePath(hostPath, runtime);
  const jail = { binary: binary as string, runtime };
  return name === 'bwrap' ? new BwrapDriver(ctx, jail) : new NsjailDriver(ctx, jail);
}
