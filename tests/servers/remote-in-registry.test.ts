import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { remoteUpstreamFactory } from '../../src/servers/remote';
import { CONFORMANCE, MINI, server, startRegistry, waitFor, type Harness } from './helpers';

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

describe('registry holding stdio and remote servers', () => {
  let remote: ChildProcess;
  let h: Harness;
  beforeAll(async () => {
    const port = await freePort();
    remote = spawn(process.execPath, [CONFORMANCE, '--http', String(port)], { stdio: ['ignore', 'ignore', 'pipe'] });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('fixture did not listen')), 10_000);
      remote.stderr!.on('data', (d: Buffer) => {
        if (d.toString().includes('http://127.0.0.1')) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
    h = await startRegistry([
      server('local', [MINI]),
      server('web', [], { transport_type: 'http', url: `http://127.0.0.1:${port}/mcp`, command: undefined, installation_id: 'inst-web' })
    ], {}, true, remoteUpstreamFactory(5000));
  });
  afterAll(async () => {
    await h?.close();
    remote?.kill('SIGKILL');
  });

  it('returns an Upstream for either kind and lists both', async () => {
    await waitFor(() => h.registry.list().every((s) => s.status === 'online'), 10_000, 'both online');
    expect(h.registry.list().map((s) => [s.serverSlug, s.transport]).sort()).toEqual([['local', 'stdio'], ['web', 'http']]);
    const tools = (await h.registry.get('team-a', 'web')!.request('tools/list', {})).tools as { name: string }[];
    expect(tools.map((t) => t.name)).toContain('test_simple_text');
    expect((await h.registry.get('team-a', 'local')!.request('tools/list', {})).tools).toBeInstanceOf(Array);
  });
});
