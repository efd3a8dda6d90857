import { existsSync, lstatSync, readlinkSync, realpathSync } from 'node:fs';
import { dirname, sep } from 'node:path';

// What a sandboxed server sees of the host: the system and runtime, read-only; nothing of /root,
// /home, the satellite's data dir, config or working directory.

/** Top-level system dirs; merged-/usr hosts have them as symlinks, recreated as symlinks inside. */
const SYSTEM_DIRS = ['/usr', '/bin', '/sbin', '/lib', '/lib32', '/lib64', '/libx32'];

/** /etc selectively: TLS roots, name resolution, locale/time and the loader cache. Not shadow, not ssh keys. */
const ETC_FILES = [
  '/etc/ssl', '/etc/ca-certificates', '/etc/ca-certificates.conf', '/etc/pki', '/etc/crypto-policies',
  '/etc/resolv.conf', '/etc/hosts', '/etc/host.conf', '/etc/nsswitch.conf', '/etc/gai.conf', '/etc/services', '/etc/protocols',
  '/etc/passwd', '/etc/group', '/etc/localtime', '/etc/timezone', '/etc/mime.types',
  '/etc/ld.so.cache', '/etc/ld.so.conf', '/etc/ld.so.conf.d', '/etc/alternatives', '/etc/os-release', '/etc/python3'
];

export type Mount =
  | { kind: 'ro'; source: string; dest: string }
  | { kind: 'symlink'; target: string; dest: string };

export function isUnder(path: string, dir: string): boolean {
  return path === dir || path.startsWith(dir.endsWith(sep) ? dir : dir + sep);
}

function systemMounts(): Mount[] {
  const out: Mount[] = [];
  for (const dir of SYSTEM_DIRS) {
    let st;
    try {
      st = lstatSync(dir);
    } catch {
      continue;
    }
    if (st.isSymbolicLink()) out.push({ kind: 'symlink', target: readlinkSync(dir), dest: dir });
    else if (st.isDirectory()) out.push({ kind: 'ro', source: dir, dest: dir });
  }
  for (const f of ETC_FILES) if (existsSync(f)) out.push({ kind: 'ro', source: f, dest: f });
  return out;
}

export interface RuntimeMountOptions {
  nodeModulesDir?: string;
  execPath?: string;
}

/** The system, the node runtime's install prefix (e.g. /opt/node-v20, where npm and npx live too) and the satellite's node_modules. */
export function runtimeMounts(opts: RuntimeMountOptions): Mount[] {
  return withFiles(systemMounts(), [dirname(dirname(realpathSync(opts.execPath ?? process.execPath))), opts.nodeModulesDir]);
}

/** Adds read-only mounts for paths not already visible (e.g. an operator-listed absolute command, and its symlink target). */
export function withFiles(base: readonly Mount[], paths: readonly (string | undefined)[]): Mount[] {
  const mounts = [...base];
  const add = (p: string) => {
    if (existsSync(p) && !mounts.some((m) => m.kind === 'ro' && isUnder(p, m.source))) mounts.push({ kind: 'ro', source: p, dest: p });
  };
  for (const p of paths) {
    if (!p) continue;
    add(p);
    if (existsSync(p)) add(realpathSync(p));
  }
  return mounts;
}

/**
 * The host PATH minus directories the sandbox cannot see, so bare command names resolve to binaries
 * that exist inside (a pyenv/asdf shim under /root would resolve but fail in the jail).
 */
export function visiblePath(hostPath: string | undefined, mounts: readonly Mount[]): string {
  return (hostPath ?? '')
    .split(':')
    .filter((dir) => dir && mounts.some((m) => isUnder(dir, m.dest)))
    .join(':');
}

export function bwrapMountArgs(mounts: readonly Mount[]): string[] {
  return mounts.flatMap((m) => (m.kind === 'ro' ? ['--ro-bind', m.source, m.dest] : ['--symlink', m.target, m.dest]));
}
