import type { EnvConfig } from './env';
import type { StandaloneConfig } from './standalone';

/** Everything buildApp needs: validated environment plus the standalone document (if any). */
export interface SatelliteConfig {
  env: EnvConfig;
  standalone: StandaloneConfig;
}
