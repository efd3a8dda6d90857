import { isIP } from 'node:net';
import { ConfigError } from './config-error';
import type { EnvConfig } from './env';
import type { StandaloneConfig } from './standalone';

export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (h === 'localhost' || h === '::1') return true;
  return isIP(h) === 4 && h.startsWith('127.');
}

/** Refuses to expose an unauthenticated satellite beyond loopback unless the operator insists. */
export function assertSafeBind(env: EnvConfig, standalone: StandaloneConfig): void {
  if (isLoopbackHost(env.host) || env.allowInsecureBind) return;
  const hasAuth = Object.keys(standalone.tokens).length > 0 || env.oauth.introspectionUrl !== undefined || env.backend.url !== undefined;
  if (!hasAuth) {
    throw new ConfigError(`Refusing HOST=${env.host}: no tokens and no introspection are configured, so anyone on the network could use the servers; bind to 127.0.0.1, configure tokens, or set SATELLITE_ALLOW_INSECURE_BIND=true`);
  }
  if (standalone.anonymous) {
    throw new ConfigError(`Refusing HOST=${env.host}: the config's "anonymous" access is only allowed on loopback; remove it or set SATELLITE_ALLOW_INSECURE_BIND=true`);
  }
}
