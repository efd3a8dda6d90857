import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { ConfigStore } from '../../src/config/config-store';
import { loadStandaloneConfig, type StandaloneConfig } from '../../src/config/standalone';
import { watchStandaloneConfig } from '../../src/lifecycle/config-reload';

const server = (slug: string) => ({
  installation_id: `i-${slug}`, team_id: 't1', team_slug: 'one', server_slug: slug, installation_name: slug,
  transport_type: 'stdio', command: 'node', args: ['x.js'], enabled: true
});

function nextChange(store: ConfigStore, timeoutMs = 5000): Promise<StandaloneConfig> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('no config change')), timeoutMs);
    store.once('change', (next) => { clearTimeout(t); resolve(next); });
  });
}

describe('standalone config reload', () => {
  let stop: (() => void) | undefined;
  afterEach(() => stop?.());

  it('re-reads the file when it changes and on SIGHUP, keeping the last good config on a bad edit', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'sat-cfg-')), 'satellite.json');
    writeFileSync(file, JSON.stringify({ mcp_servers: { a: server('a') } }));
    const store = new ConfigStore(loadStandaloneConfig(file));
    const errors: string[] = [];
    const log = pino({ level: 'error' }, { write: (l: string) => errors.push(l) });
    stop = watchStandaloneConfig(file, store, log);

    let changed = nextChange(store);
    writeFileSync(file, JSON.stringify({ mcp_servers: { a: server('a'), b: server('b') } }));
    expect(Object.keys((await changed).mcp_servers)).toEqual(['a', 'b']);

    writeFileSync(file, JSON.stringify({ mcp_servers: { a: { ...server('a'), transport_type: 'carrier-pigeon' } } }));
    await new Promise((r) => setTimeout(r, 600));
    expect(Object.keys(store.current.mcp_servers)).toEqual(['a', 'b']);
    expect(errors.join('')).toContain('configuration reload failed');
    expect(errors.join('')).toContain('/mcp_servers/a/transport_type');

    stop();
    stop = watchStandaloneConfig(file, store, log);
    writeFileSync(file, JSON.stringify({ mcp_servers: { c: server('c') } }));
    changed = nextChange(store);
    process.kill(process.pid, 'SIGHUP');
    expect(Object.keys((await changed).mcp_servers)).toEqual(['c']);
  });
});
