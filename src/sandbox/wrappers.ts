import { findOnPath } from './policy';

/** Host tools the drivers wrap commands with; looked up once per driver, absent ones are skipped. */
export interface HostTools {
  prlimit?: string;
  setpriv?: string;
  sh?: string;
}

const SYSTEM_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

export function findHostTools(hostPath: string | undefined = process.env.PATH): HostTools {
  const find = (name: string) => findOnPath(name, `${SYSTEM_PATH}:${hostPath ?? ''}`);
  return { prlimit: find('prlimit'), setpriv: find('setpriv'), sh: find('sh') };
}

/** One wrapping layer: `[command, ...args]` then the wrapped argv. */
export type Argv = [string, ...string[]];

export function prepend(prefix: readonly string[] | undefined, argv: Argv): Argv {
  if (!prefix || prefix.length === 0) return argv;
  return [...(prefix as Argv), ...argv];
}

export function splitArgv(argv: Argv): { command: string; args: string[] } {
  const [command, ...args] = argv;
  return { command, args };
}
