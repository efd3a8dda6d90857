import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadEnv, type RawEnv } from '../../src/config/env';
import { parseStandaloneConfig, type StandaloneConfig } from '../../src/config/standalone';
import type { SatelliteConfig } from '../../src/config/satellite-config';

/** A validated SatelliteConfig for in-process tests: env overrides plus a standalone document. */
export function testConfig(env: RawEnv = {}, standalone: Partial<StandaloneConfig> = {}): SatelliteConfig {
  return {
    // State and the audit trail go to the temp dir, never into the repository's data/.
    env: loadEnv({
      NODE_ENV: 'test', LOG_LEVEL: 'silent', PORT: '0', SANDBOX: 'none',
      SATELLITE_DATA_DIR: join(tmpdir(), `satellite-test-data-${process.pid}`),
      AUDIT_LOG_FILE: join(tmpdir(), `satellite-test-audit-${process.pid}.log`),
      ...env
    }),
    standalone: parseStandaloneConfig({ mcp_servers: {}, ...standalone }, 'test-config')
  };
}
