import type { SandboxLimits } from './types';

const MB = 1024 * 1024;

export interface RlimitChoice {
  /** RLIMIT_AS only when no memory cgroup holds the process (Node reserves gigabytes of address space). */
  addressSpace: boolean;
  /** RLIMIT_NPROC only when no pids cgroup holds it; it counts per real uid and root ignores it. */
  processes: boolean;
}

/** `prlimit` options (soft = hard, so a child cannot raise them back). */
export function prlimitOptions(limits: SandboxLimits, choice: RlimitChoice): string[] {
  const opt = (name: string, value: number): string => `--${name}=${value}:${value}`;
  const out = [opt('cpu', limits.cpuSeconds), opt('nofile', limits.maxOpenFiles), opt('fsize', limits.maxFileSizeMb * MB)];
  if (choice.addressSpace) out.push(opt('as', limits.addressSpaceMb * MB));
  if (choice.processes) out.push(opt('nproc', limits.maxProcesses));
  return out;
}
