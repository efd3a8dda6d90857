import { mkdir } from 'node:fs/promises';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import { SandboxError } from './types';

// Ids become path components: anything that could climb out (`..`, `/`) or hide (leading dot) is refused.
const SAFE_ID = /^[A-Za-z0-9_-][A-Za-z0-9_.-]{0,127}$/;

function checkId(kind: string, id: string): string {
  if (!SAFE_ID.test(id) || id.includes('..')) throw new SandboxError(`${kind} ${JSON.stringify(id)} cannot name a directory: use letters, digits, '.', '_' and '-'`);
  return id;
}

/** Per-user directories live here inside the team's; team-wide servers get it masked. */
export const USERS_SUBDIR = 'users';

/** `${dataDir}/teams/<team>` or, for a per-user instance, `.../users/<user>` inside it (absolute). */
export function writableDirFor(dataDir: string, teamId: string, userId?: string): string {
  const team = join(resolve(dataDir), 'teams', checkId('Team id', teamId));
  return userId === undefined ? team : join(team, USERS_SUBDIR, checkId('User id', userId));
}

/** Creates the directory (0700) and returns it. */
export async function ensureDir(dir: string): Promise<string> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  return dir;
}

/** The request's cwd, relative to the writable dir, as a relative path that stays inside it ('' = the dir itself). */
export function relativeCwd(cwd: string | undefined, teamWide = false): string {
  if (cwd === undefined || cwd === '' || cwd === '.') return '';
  if (isAbsolute(cwd)) throw new SandboxError(`Working directory ${cwd} must be relative to the team directory`);
  const rel = relative('/base', resolve('/base', cwd));
  if (rel === '') return '';
  if (rel.startsWith('..') || rel.split(sep).includes('..')) throw new SandboxError(`Working directory ${cwd} leaves the team directory`);
  if (teamWide && rel.split(sep)[0] === USERS_SUBDIR) throw new SandboxError(`Working directory ${cwd} is inside the per-user directories, which team-wide servers cannot use`);
  return rel;
}
