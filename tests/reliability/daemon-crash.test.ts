// The satellite itself SIGKILLed (OOM killer, kill -9) and started again as a real process: no
// orphaned servers, old sessions answer 404 so clients re-initialize, and events that were waiting
// on disk for a backend outage reach the (fake) backend after the restart.
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { backendEnv, newToken, waitFor, withBackend } from '../backend/helpers';
import { isAlive } from '../servers/helpers';
import { headers, initBody, openSession } from '../transports/helpers';
import { serveMiniToTeamA } from './backend-config';

const REPO = resolve(__dirname, '../..');
const CLIENT_TOKEN = 'daemon-crash-client-token-0123456789';

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}

interface Daemon { child: ChildProcess; output: () => string }
function startDaemon(env: Record<string, string>): Daemon {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/index.ts'], {
    cwd: REPO,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/root', NODE_ENV: 'production', SANDBOX: 'none', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe']
  });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  return { child, output: () => out };
}

let nextId = 1;
async function callTool(base: string, sid: string, name: string, args: object = {}): Promise<{ status: number; body: any }> {
  const res = await fetch(`${base}/servers/mini/mcp`, {
    method: 'POST', headers: headers(CLIENT_TOKEN, { 'mcp-session-id': sid }),
    body: JSON.stringify({ jsonrpc: '2.0', id: nextId++, method: 'tools/call', params: { name, arguments: args } }),
    signal: AbortSignal.timeout(8_000)
  });
  return { status: res.status, body: await res.json() };
}

describe('the satellite SIGKILLed and restarted', () => {
  it('leaves no orphans, answers old sessions with 404, and delivers the events it had on disk', async () => {
    await withBackend(async ({ fake, dir }) => {
      serveMiniToTeamA(fake, CLIENT_TOKEN);
      const port = await freePort();
      const base = `http://127.0.0.1:${port}`;
      // EVENT_BATCH_INTERVAL_MS is long enough that nothing leaves between the crash and the kill.
      const env = backendEnv(fake, dir, newToken(fake), { PORT: String(port), EVENT_BATCH_INTERVAL_MS: '200', MCP_PROCESS_IDLE_TIMEOUT_SECONDS: '0' });
      const daemons: Daemon[] = [];
      try {
        const first = startDaemon(env);
        daemons.push(first);
        await waitFor('first daemon ready', () => /satellite ready/.test(first.output()), 20_000);
        await waitFor('backend config applied', () => /mini/.test(first.output()) || fake.requests.some((r) => r.path.endsWith('/config')), 10_000);
        const sid = await openSessionWithRetry(`${base}/servers/mini/mcp`);
        const pidText = (await callTool(base, sid, 'pid')).body.result.content[0].text as string;
        const serverPid = JSON.parse(pidText).pid as number;
        expect(isAlive(serverPid)).toBe(true);

        // Backend down: the crash and restart events of the server wait in the journal.
        await fake.stop();
        const outageStart = new Date().toISOString();
        await callTool(base, sid, 'crash', { code: 7 });
        const restartedPid = JSON.parse((await callTool(base, sid, 'pid')).body.result.content[0].text as string).pid as number;
        expect(restartedPid).not.toBe(serverPid);
        await new Promise((r) => setTimeout(r, 300)); // journal writes happen on the next tick

        first.child.kill('SIGKILL');
        await new Promise((r) => first.child.once('exit', r));
        await waitFor('the server to die with the satellite', () => !isAlive(restartedPid), 5_000);

        await fake.start();
        const second = startDaemon(env);
        daemons.push(second);
        await waitFor('second daemon ready', () => /satellite ready/.test(second.output()), 20_000);
        // The old session is either unknown to the new process (404, so the client re-initializes)
        // or restored from disk by session persistence; never an error of another kind.
        const stale = await fetch(`${base}/servers/mini/mcp`, { method: 'POST', headers: headers(CLIENT_TOKEN, { 'mcp-session-id': sid }), body: JSON.stringify({ jsonrpc: '2.0', id: 'old', method: 'ping' }) });
        const staleBody = (await stale.json()) as { id: unknown; result?: unknown; error?: { code: number } };
        if (stale.status === 200) expect(staleBody).toMatchObject({ id: 'old', result: {} });
        else expect({ status: stale.status, code: staleBody.error?.code }).toEqual({ status: 404, code: -32001 });
        const sid2 = await openSession(`${base}/servers/mini/mcp`, CLIENT_TOKEN);
        expect((await callTool(base, sid2, 'echo', { back: true })).body.result.structuredContent).toEqual({ echo: { back: true } });

        await waitFor('the crash event from before the kill', () => fake.events.some((e) => e.type === 'mcp.server.crashed' && e.timestamp >= outageStart), 10_000);
        const crashed = fake.events.filter((e) => e.type === 'mcp.server.crashed' && e.timestamp >= outageStart);
        expect(crashed).toHaveLength(1);
        expect(crashed[0]!.data).toMatchObject({ server_id: 'inst-mini' });
      } finally {
        for (const d of daemons) if (d.child.exitCode === null && d.child.signalCode === null) d.child.kill('SIGKILL');
      }
    });
  }, 60_000);
});

/** The first initialize may race the first config fetch: retry briefly on 404. */
async function openSessionWithRetry(url: string): Promise<string> {
  for (let i = 0; i < 40; i++) {
    const res = await fetch(url, { method: 'POST', headers: headers(CLIENT_TOKEN), body: initBody() });
    await res.text();
    if (res.status === 200) return openSession(url, CLIENT_TOKEN);
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`no session on ${url}`);
}
