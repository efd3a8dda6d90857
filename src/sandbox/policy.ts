import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, isAbsolute, join } from 'node:path';
import { SandboxError } from './types';

// Keys that let a caller inject code into the loader or interpreter of the child (reference section 4).
// Refused rather than silently dropped so a misconfigured server fails loudly at spawn.
const HIJACK_KEYS = new Set([
  'LD_PRELOAD', 'LD_LIBRARY_PATH', 'LD_AUDIT', 'LD_DEBUG', 'LD_DEBUG_OUTPUT', 'LD_PROFILE', 'LD_ORIGIN_PATH', 'LD_DYNAMIC_WEAK', 'LD_BIND_NOW', 'LD_USE_LOAD_BIAS',
  'NODE_OPTIONS', 'NODE_PATH', 'NODE_EXTRA_CA_CERTS', 'NODE_REPL_EXTERNAL_MODULE', 'NODE_V8_COVERAGE',
  'PYTHONPATH', 'PYTHONSTARTUP', 'PYTHONHOME', 'PYTHONINSPECT', 'PYTHONUSERBASE', 'PYTHONEXECUTABLE', 'PYTHONBREAKPOINT',
  'BASH_ENV', 'ENV', 'ZDOTDIR', 'SHELLOPTS', 'BASHOPTS', 'PS4', 'PROMPT_COMMAND', 'IFS',
  'PERL5LIB', 'PERL5OPT', 'RUBYLIB', 'RUBYOPT', 'GCONV_PATH', 'HOSTALIASES', 'MALLOC_CHECK_', 'GLIBC_TUNABLES'
]);
const HIJACK_PREFIXES = ['LD_', 'DYLD_', 'BASH_FUNC_'];

/** Set by the sandbox itself; a server's value would point the child outside its directory. */
const SANDBOX_OWNED_KEYS = new Set(['PATH', 'HOME', 'TMPDIR', 'TMP', 'TEMP', 'PWD', 'SHELL', 'USER', 'LOGNAME']);

const ENV_KEY = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** The server's own env minus keys the sandbox sets; throws on loader-hijacking or malformed keys. */
export function sanitizeServerEnv(env: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(env)) {
    if (!ENV_KEY.test(key)) throw new SandboxError(`Environment variable name ${JSON.stringify(key)} is not allowed: use letters, digits and _`);
    const upper = key.toUpperCase();
    if (HIJACK_KEYS.has(upper) || HIJACK_PREFIXES.some((p) => upper.startsWith(p))) {
      throw new SandboxError(`Environment variable ${key} is not allowed for sandboxed servers: it can inject code into the loader or interpreter`);
    }
    if (typeof value !== 'string' || value.includes('\0')) throw new SandboxError(`Environment variable ${key} has an invalid value (NUL byte or not a string)`);
    if (SANDBOX_OWNED_KEYS.has(upper)) continue;
    out[key] = value;
  }
  return out;
}

/** Args travel as argv (never through a shell), so only what execve cannot carry is refused. */
export function checkArgs(args: readonly string[]): string[] {
  if (args.length > 1000) throw new SandboxError(`Too many arguments (${args.length}); at most 1000`);
  return args.map((a, i) => {
    if (typeof a !== 'string') throw new SandboxError(`Argument ${i} is not a string`);
    if (a.includes('\0')) throw new SandboxError(`Argument ${i} contains a NUL byte`);
    return a;
  });
}

function isExecutableFile(path: string): boolean {
  try {
    if (!statSync(path).isFile()) return false;
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** First executable named `name` on `searchPath`. */
export function findOnPath(name: string, searchPath: string | undefined): string | undefined {
  for (const dir of (searchPath ?? '').split(delimiter)) {
    if (!dir || !isAbsolute(dir)) continue;
    const candidate = join(dir, name);
    if (isExecutableFile(candidate)) return candidate;
  }
  return undefined;
}

/**
 * Checks `command` against the allowlist and resolves it to an absolute host path.
 * Bare names must be listed and are looked up on the host PATH; absolute paths must be listed verbatim.
 */
export function resolveCommand(command: string, allowed: readonly string[], hostPath: string | undefined): string {
  const listed = allowed.includes(command);
  if (isAbsolute(command)) {
    if (!listed) throw new SandboxError(`Command ${command} is not allowed: absolute paths must be listed in SATELLITE_ALLOWED_COMMANDS`);
    if (!isExecutableFile(command)) throw new SandboxError(`Command ${command} is not an executable file`);
    return command;
  }
  if (command.includes('/') || command === '' || command.startsWith('-')) {
    throw new SandboxError(`Command ${JSON.stringify(command)} is not allowed: use a bare command name or an absolute path`);
  }
  if (!listed) {
    throw new SandboxError(`Command ${command} is not allowed: SATELLITE_ALLOWED_COMMANDS permits ${allowed.join(', ') || 'nothing'}`);
  }
  const found = findOnPath(command, hostPath);
  if (!found) throw new SandboxError(`Command ${command} is allowed but was not found on the PATH the sandbox can use (${hostPath || 'empty'})`);
  return found;
}
