import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';

const REPO = resolve(__dirname, '../..');
const FIXTURE = join(__dirname, 'fixtures/slow-server.mjs');


const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('SIGTERM to the real daemon', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'satellite-sigterm-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('lets a long tool call finish, stops the child and exits 0', async () => {
    const configFile = join(dir, 'satellite.json');
    writeFileSync(configFile, JSON.stringify({
      anonymous: { team_id: 'team-ops', user_id: 'op' },
      teams: { 'team-ops': { slug: 'ops' } },
      tokens: {},
      mcp_servers: {
        slow: { installation_id: 'inst-slow', team_id: 'team-ops', team_slug: 'ops', server_slug: 'slow', installation_name: 'slow', transport_type: 'stdio', command: 'node', args: [FIXTURE], enabled: true }
      }
    }));
    const auditFile = join(dir, 'audit.log');
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/index.ts'], {
      cwd: REPO,
      env: {
        PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/root', PORT: '0', NODE_ENV: 'production', SANDBOX: 'none',
        SATELLITE_CONFIG: configFile, SATELLITE_DATA_DIR: join(dir, 'data'), AUDIT_LOG_FILE: auditFile, SHUTDOWN_TIMEOUT_MS: '8000'
      },
      stdio: ['ignore', 'pipe', 'pipe']
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) => child.on('exit', (code, signal) => r({ code, signal })));
    try {
      let url: string | undefined;
      for (let i = 0; i < 300 && !url; i++) {
        url = out.match(/Server listening at (http:\/\/127\.0\.0\.1:\d+)/)?.[1];
        if (!url) await new Promise((r) => setTimeout(r, 50));
      }
      expect(url, out).toBeDefined();

      const client = new Client({ name: 'ops-test', version: '1.0.0' });
      await client.connect(new StreamableHTTPClientTransport(new URL(`${url}/servers/slow/mcp`)));
      const pidResult = await client.callTool({ name: 'pid', arguments: {} });
      const serverPid = Number((pidResult.content as Array<{ text: string }>)[0]!.text);
      expect(alive(serverPid)).toBe(true);

      const call = client.callTool({ name: 'slow', arguments: { ms: 1500 } });
      await new Promise((r) => setTimeout(r, 300));
      child.kill('SIGTERM');
      const result = await call;
      expect((result.content as Array<{ text: string }>)[0]!.text).toBe('done after 1500 ms');
      expect(await exited).toEqual({ code: 0, signal: null });
      expect(out).toContain('shutdown complete');
      expect(alive(serverPid)).toBe(false);
      await client.close().catch(() => undefined);
      const actions = readFileSync(auditFile, 'utf8').trim().split('\n').map((l) => JSON.parse(l).action);
      expect(actions).toContain('session.created');
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  }, 30_000);
});
