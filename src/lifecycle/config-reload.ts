import { watch, type FSWatcher } from 'node:fs';
import type { FastifyBaseLogger } from 'fastify';
import type { ConfigStore } from '../config/config-store';
import { loadStandaloneConfig } from '../config/standalone';

/**
 * Re-reads the standalone file on SIGHUP and when it changes on disk. A bad edit is logged
 * and the last good configuration stays in force.
 */
export function watchStandaloneConfig(path: string, store: ConfigStore, log: FastifyBaseLogger): () => void {
  let timer: NodeJS.Timeout | undefined;
  let lastText = JSON.stringify(store.current);
  const reload = (reason: string) => {
    try {
      const next = loadStandaloneConfig(path);
      const text = JSON.stringify(next);
      if (text === lastText) return;
      lastText = text;
      store.replace(next);
      log.info({ reason, servers: Object.keys(next.mcp_servers).length }, 'configuration reloaded');
    } catch (err) {
      log.error({ reason, error: (err as Error).message }, 'configuration reload failed; keeping the previous configuration');
    }
  };
  const onHup = () => reload('SIGHUP');
  process.on('SIGHUP', onHup);
  let watcher: FSWatcher | undefined;
  try {
    // Editors replace files; debounce and re-read whatever is there.
    watcher = watch(path, () => {
      clearTimeout(timer);
      timer = setTimeout(() => reload('file changed'), 200);
    });
  } catch (err) {
    log.warn({ error: (err as Error).message }, 'cannot watch the config file; SIGHUP still reloads it');
  }
  return () => {
    process.off('SIGHUP', onHup);
    clearTimeout(timer);
    watcher?.close();
  };
}
