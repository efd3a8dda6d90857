import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js';
import { buildDaemon, removeBuild, startDaemon, waitForOutput, type RunningDaemon } from '../helpers/built-daemon';

// The real built artifact, started as a real process, as `npm start` does.
describe('built daemon', () => {
  let dist: string;
  let tmp: string;
  beforeAll(() => {
    dist = buildDaemon();
    tmp = mkdtempSync(join(tmpdir(), 'satellite-proc-'));
  }, 120_000);
  afterAll(() => removeBuild());

  describe('with the repository default config', () => {
    let d: RunningDaemon;
    afterAll(async () => {
      d.child.kill('SIGTERM');
      await d.exited;
    });

    it('starts and answers GET /, then exits 0 on SIGTERM', async () => {
      d = startDaemon(dist, { PORT: '0', NODE_ENV: 'production', SATELLITE_DATA_DIR: join(tmp, 'data'), AUDIT_LOG_FILE: join(tmp, 'audit.log') });
      const [, url] = await waitForOutput(d, /Server listening at (http:\/\/127\.0\.0\.1:\d+)/);
      const res = await fetch(`${url}/`);
      expect(res.status).toBe(200);
      expect(await res.json()).toMatchObject({ service: 'satellite', status: 'healthy', mode: 'standalone' });

      // The demo team's stdio server (server-everything, a dependency) runs in the production sandbox.
      const team = new Client({ name: 'daemon-test', version: '1.0.0' });
      await team.connect(new StreamableHTTPClientTransport(new URL(`${url}/mcp`)));
      const { tools } = await team.listTools();
      expect(tools.map((t) => t.name)).toContain('everything__echo');
      const echoed = await team.callTool({ name: 'everything__echo', arguments: { message: 'hello satellite' } });
      expect(JSON.stringify(echoed.content)).toContain('hello satellite');
      await team.close();

      const single = new Client({ name: 'daemon-test-sse', version: '1.0.0' });
      await single.connect(new SSEClientTransport(new URL(`${url}/servers/everything/sse`)));
      expect((await single.listTools()).tools.map((t) => t.name)).toContain('echo');
      await single.close();

      d.child.kill('SIGTERM');
      expect(await d.exited).toEqual({ code: 0, signal: null });
    }, 60_000);
  });

  const badStarts: Array<[string, Record<string, string>, RegExp]> = [
    ['a bad PORT', { PORT: 'eighty' }, /^satellite: Invalid environment variable PORT="eighty": expected an integer from 0 to 65535\n$/],
    ['a bad SANDBOX', { SANDBOX: 'docker' }, /^satellite: Invalid environment variable SANDBOX="docker": expected one of auto, none, bwrap, nsjail\n$/],
    ['a missing config file', { SATELLITE_CONFIG: '/nonexistent/satellite.json' }, /^satellite: Cannot read config file \/nonexistent\/satellite\.json \(SATELLITE_CONFIG\): ENOENT\n$/],
    ['a public HOST without auth', { HOST: '0.0.0.0', PORT: '0' }, /^satellite: Refusing HOST=0\.0\.0\.0: .*SATELLITE_ALLOW_INSECURE_BIND=true\n$/]
  ];
  it.each(badStarts)('exits 1 with one clear line on %s', async (_name, env, pattern) => {
    const d = startDaemon(dist, env);
    const { code } = await d.exited;
    expect(code).toBe(1);
    expect(d.output()).toMatch(pattern);
  });

  it('exits 1 naming the bad path inside a bad config file', async () => {
    const file = join(tmp, 'bad.json');
    writeFileSync(file, JSON.stringify({ mcp_servers: { s1: { installation_id: 'i', team_id: 't', team_slug: 'UPPER', server_slug: 's', installation_name: 'n', transport_type: 'stdio', command: 'node' } } }));
    const d = startDaemon(dist, { SATELLITE_CONFIG: file });
    expect((await d.exited).code).toBe(1);
    expect(d.output()).toBe(`satellite: Invalid config file ${file} at /mcp_servers/s1/team_slug: must match pattern "^[a-z0-9][a-z0-9_-]{0,62}$"\n`);
  });

  it('exits 1 on a config file that is not JSON', async () => {
    const file = join(tmp, 'broken.json');
    writeFileSync(file, '{ "mcp_servers": ');
    const d = startDaemon(dist, { SATELLITE_CONFIG: file });
    expect((await d.exited).code).toBe(1);
    expect(d.output()).toMatch(new RegExp(`^satellite: Invalid config file ${file}: not valid JSON \\(.+\\)\\n$`));
  });
});
