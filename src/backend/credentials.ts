import { chmodSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

/** The persisted result of registration (same file shape as the original satellite). */
export interface SatelliteCredentials {
  api_key: string;
  satellite_id: string;
  satellite_name: string;
  registered_at: string;
  last_verified?: string;
}

/** Reads and writes the credentials file; the file is created with mode 0600 and replaced atomically. */
export class CredentialStore {
  constructor(readonly path: string) {}

  load(): SatelliteCredentials | undefined {
    let text: string;
    try {
      text = readFileSync(this.path, 'utf8');
    } catch {
      return undefined;
    }
    try {
      const c = JSON.parse(text) as Partial<SatelliteCredentials>;
      if (typeof c.api_key === 'string' && c.api_key && typeof c.satellite_id === 'string' && c.satellite_id) {
        return c as SatelliteCredentials;
      }
    } catch {
      // unreadable: treated as absent, registration writes a fresh one
    }
    return undefined;
  }

  save(c: SatelliteCredentials): void {
    mkdirSync(dirname(this.path), { recursive: true, mode: 0o700 });
    const tmp = `${this.path}.${process.pid}.tmp`;
    writeFileSync(tmp, `${JSON.stringify(c, null, 2)}\n`, { mode: 0o600 });
    chmodSync(tmp, 0o600); // umask may have widened nothing, but an existing tmp keeps its old mode
    renameSync(tmp, this.path);
  }

  clear(): void {
    rmSync(this.path, { force: true });
  }
}
