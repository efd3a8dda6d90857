import 'dotenv/config';
import { resolve } from 'node:path';
import { buildApp } from './app';
import { assertSafeBind } from './config/bind-guard';
import { ConfigError } from './config/config-error';
import { loadEnv } from './config/env';
import { loadStandaloneConfig, parseStandaloneConfig } from './config/standalone';
import { watchStandaloneConfig } from './lifecycle/config-reload';
import { installSignalHandlers } from './lifecycle/signals';

async function main(): Promise<void> {
  const env = loadEnv();
  const configPath = resolve(env.configFile);
  // In backend mode the servers come from the backend (or its last persisted configuration), never
  // from the local demo file.
  const standalone = env.backend.url ? parseStandaloneConfig({ mcp_servers: {} }, 'backend') : loadStandaloneConfig(configPath);
  assertSafeBind(env, standalone);
  const app = await buildApp({ env, standalone });
  installSignalHandlers(app, env.shutdownTimeoutMs);
  if (!env.backend.url) {
    const stop = watchStandaloneConfig(configPath, app.configStore, app.log);
    app.addHook('onClose', async () => stop());
  }
  await app.listen({ port: env.port, host: env.host });
  app.log.info({ mode: env.backend.url ? 'backend' : 'standalone', config: env.backend.url ? undefined : configPath }, 'satellite ready');
}

main().catch((err: unknown) => {
  if (err instanceof ConfigError) {
    process.stderr.write(`satellite: ${err.message}\n`);
  } else {
    process.stderr.write(`satellite: failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
  }
  process.exit(1);
});
