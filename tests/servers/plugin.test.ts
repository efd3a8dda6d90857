import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app';
import { testConfig } from '../helpers/config';
import { MINI, configOf, isAlive, server, waitFor } from './helpers';

describe('servers plugin', () => {
  let app: FastifyInstance;
  let dataDir: string;
  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'satellite-plugin-'));
    app = await buildApp(testConfig({ SATELLITE_DATA_DIR: dataDir }, { mcp_servers: configOf([server('mini', [MINI])]).mcp_servers }));
    await app.listen({ port: 0, host: '127.0.0.1' });
  });
  afterAll(async () => {
    await app.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('decorates app.servers, starts enabled stdio servers eagerly, follows config changes and kills children on close', async () => {
    await waitFor(() => app.servers.list()[0]?.status === 'online', 10_000, 'eager start');
    const pid = app.servers.list()[0]!.pid!;
    const result = await app.servers.get('team-a', 'mini')!.request('tools/call', { name: 'echo', arguments: { via: 'plugin' } });
    expect(result.structuredContent).toEqual({ echo: { via: 'plugin' } });

    app.configStore.replace(configOf([server('mini', [MINI]), server('second', [MINI])]));
    await app.servers.settled();
    expect(app.servers.list().map((s) => [s.serverSlug, s.status]).sort()).toEqual([['mini', 'online'], ['second', 'online']]);
    expect(app.servers.list().find((s) => s.serverSlug === 'mini')!.pid).toBe(pid);

    const pids = app.servers.list().map((s) => s.pid!);
    await app.close();
    expect(pids.filter(isAlive)).toEqual([]);
  });
});
