import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadEnv, type RawEnv } from '../../src/config/env';
import type { SandboxLog } from '../../src/sandbox/log';
import type { SandboxLimits, SandboxSpawnRequest } from '../../src/sandbox/types';

export const FIXTURES = new URL('../fixtures/sandbox/', import.meta.url).pathname;

export const DEFAULT_LIMITS: SandboxLimits = { memoryMb: 100, addressSpaceMb: 4096, cpuSeconds: 60, maxProcesses: 50, maxOpenFiles: 1024, maxFileSizeMb: 50 };

/** Collects what the driver logged, so tests can assert on warnings. */
export function memoryLog(): SandboxLog & { lines: { level: string; msg?: string; obj: object }[] } {
  const lines: { level: string; msg?: string; obj: object }[] = [];
  const at = (level: string) => (obj: object, msg?: string) => void lines.push({ level, obj, msg });
  return { lines, info: at('info'), warn: at('warn'), debug: at('debug') };
}

export function tempDataDir(): { dir: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'satellite-sandbox-'));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export function sandboxEnv(dataDir: string, extra: RawEnv = {}) {
  return loadEnv({ NODE_ENV: 'test', SATELLITE_DATA_DIR: dataDir, ...extra });
}

export function request(over: Partial<SandboxSpawnRequest> = {}): SandboxSpawnRequest {
  return { teamId: 'team-a', teamSlug: 'alpha', serverSlug: 'probe', command: 'node', args: [], env: {}, limits: DEFAULT_LIMITS, ...over };
}
