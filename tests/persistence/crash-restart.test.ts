// The real daemon (tsx src/index.ts) killed with SIGKILL mid-session and started again on the same
// port: the client's next call succeeds on the same session, without a new initialize.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordingTransport, standalone, waitForSaved } from './helpers';

const REPO = resolve(__dirname, '../..');

interface Daemon {
  child: ChildProcess;
  url: string;
  exited: Promise<unknown>;
}

async function startDaemon(dir: string, port: number): Promise<Daemon> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/index.ts'], {
    cwd: REPO,
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/root', PORT: String(port), NODE_ENV: 'production', SANDBOX: 'none',
      SATELLITE_CONFIG: join(dir, 'satellite.json'), SATELLITE_DATA_DIR: join(dir, 'data'), AUDIT_LOG_FILE: join(dir, 'audit.log')
    },
    stdio: ['ignore', 'pipe', 'pipe']
  });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise((r) => child.on('exit', r));
  for (let i = 0; i < 400; i++) {
    const url = out.match(/Server listening at (http:\/\/127\.0\.0\.1:\d+)/)?.[1];
    if (url) return { child, url, exited };
    if (child.exitCode !== null) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  child.kill('SIGKILL');
  throw new Error(`the daemon did not start:\n${out}`);
}

describe('SIGKILL and restart of the real daemon', () => {
  let dir: string;
  const daemons: Daemon[] = [];
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'satellite-crash-'));
    writeFileSync(join(dir, 'satellite.json'), JSON.stringify(standalone));
  });
  afterAll(async () => {
    for (const d of daemons) {
      if (d.child.exitCode === null && d.child.signalCode === null) d.child.kill('SIGKILL');
      await d.exited;
    }
    rmSync(dir, { recursive: true, force: true });
  });

  it('the session continues after a crash', async () => {
    const first = await startDaemon(dir, 0);
    daemons.push(first);
    const { transport, sent } = recordingTransport(`${first.url}/mcp`);
    const client = new Client({ name: 'crash-test', version: '1' });
    try {
      await client.connect(transport);
      const sid = transport.sessionId!;
      const before = await client.callTool({ name: 'conf__test_simple_text', arguments: {} });
      expect(JSON.stringify(before.content)).toContain('simple text response');
      await waitForSaved(join(dir, 'data'), sid);

      first.child.kill('SIGKILL');
      await first.exited;
      const second = await startDaemon(dir, Number(new URL(first.url).port));
      daemons.push(second);

      const after = await client.callTool({ name: 'conf__test_simple_text', arguments: {} });
      expect(JSON.stringify(after.content)).toContain('simple text response');
      expect(transport.sessionId).toBe(sid);
      expect(sent.filter((m) => m === 'initialize')).toHaveLength(1);
    } finally {
      await client.close();
    }
  });
});
