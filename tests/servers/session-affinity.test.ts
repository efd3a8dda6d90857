// session_affinity "per_session": each pass-through session gets a process of its own, so sampling
// requests of concurrent calls reach the session that made the call; shared processes warn.
import { Writable } from 'node:stream';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { CreateMessageRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { loadEnv } from '../../src/config/env';
import { parseStandaloneConfig } from '../../src/config/standalone';
import { createSandboxDriver } from '../../src/sandbox/factory';
import { ServerEventEmitter } from '../../src/servers/events';
import { stdioRuntimeOptions } from '../../src/servers/stdio/options';
import { StdioUpstream } from '../../src/servers/stdio/stdio-upstream';
import { server as appServer, startApp, TOKEN_A, TOKEN_A_BOB } from '../transports/helpers';
import { isAlive, MINI, server, textOf, waitFor } from './helpers';

/** An SDK client whose sampling answer names the prompt it was asked, and what it was asked. */
async function samplingClient(url: string, token: string, name: string) {
  const asked: string[] = [];
  const client = new Client({ name, version: '1' }, { capabilities: { sampling: {} } });
  client.setRequestHandler(CreateMessageRequestSchema, async (req) => {
    const prompt = (req.params.messages[0]!.content as { text: string }).text;
    asked.push(prompt);
    // Slow enough that both calls are in flight together.
    await new Promise((r) => setTimeout(r, 100));
    return { role: 'assistant', content: { type: 'text', text: `${name} answers ${prompt}` }, model: 'test' };
  });
  await client.connect(new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers: { authorization: `Bearer ${token}` } } }));
  return { client, asked };
}

describe('session_affinity', () => {
  it('accepts only shared or per_session in the config', () => {
    const entry = (v: unknown) => ({ mcp_servers: { x: { ...server('x', [MINI]), session_affinity: v } } });
    expect(parseStandaloneConfig(entry('per_session'), 't').mcp_servers.x!.session_affinity).toBe('per_session');
    expect(() => parseStandaloneConfig(entry('per_user'), 't')).toThrow(/session_affinity/);
  });

  it('gives each pass-through session its own process: concurrent sampling reaches the right session', async () => {
    const { app, base } = await startApp({}, { mini: { ...appServer('team-a', 'mini', [MINI]), session_affinity: 'per_session' } as ReturnType<typeof appServer> });
    const url = `${base}/servers/mini/mcp`;
    const clients: Client[] = [];
    try {
      const alice = await samplingClient(url, TOKEN_A, 'alice');
      const bob = await samplingClient(url, TOKEN_A_BOB, 'bob');
      clients.push(alice.client, bob.client);
      expect(app.servers.sessionInstanceCount).toBe(2);

      const [a, b] = await Promise.all([
        alice.client.callTool({ name: 'sample', arguments: { prompt: 'from-alice' } }),
        bob.client.callTool({ name: 'sample', arguments: { prompt: 'from-bob' } })
      ]);
      expect(alice.asked).toEqual(['from-alice']);
      expect(bob.asked).toEqual(['from-bob']);
      expect(textOf(a as Record<string, unknown>).answer.content.text).toBe('alice answers from-alice');
      expect(textOf(b as Record<string, unknown>).answer.content.text).toBe('bob answers from-bob');

      const pidA = textOf(await alice.client.callTool({ name: 'pid', arguments: {} }) as Record<string, unknown>).pid as number;
      const pidB = textOf(await bob.client.callTool({ name: 'pid', arguments: {} }) as Record<string, unknown>).pid as number;
      expect(pidA).not.toBe(pidB);
      // The shared entry itself serves neither session.
      expect([pidA, pidB]).not.toContain(app.servers.get('team-a', 'mini')!.snapshot().pid);

      // Ending a session stops its process.
      await (alice.client.transport as StreamableHTTPClientTransport).terminateSession();
      await alice.client.close();
      await waitFor(() => !isAlive(pidA), 5000, 'alice\'s process gone');
      expect(app.servers.sessionInstanceCount).toBe(1);
      expect(isAlive(pidB)).toBe(true);
    } finally {
      await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
      await app.close();
    }
  });

  it('on the team endpoint, calls of each session go to its own process (discovery stays on the shared one)', async () => {
    const { app, base } = await startApp({}, { mini: { ...appServer('team-a', 'mini', [MINI]), session_affinity: 'per_session' } as ReturnType<typeof appServer> });
    const clients: Client[] = [];
    try {
      const alice = await samplingClient(`${base}/mcp`, TOKEN_A, 'alice');
      const bob = await samplingClient(`${base}/mcp`, TOKEN_A_BOB, 'bob');
      clients.push(alice.client, bob.client);
      expect((await alice.client.listTools()).tools.map((t) => t.name)).toContain('mini__sample');
      expect(app.servers.sessionInstanceCount).toBe(0);
      const [a, b] = await Promise.all([
        alice.client.callTool({ name: 'mini__sample', arguments: { prompt: 'from-alice' } }),
        bob.client.callTool({ name: 'mini__sample', arguments: { prompt: 'from-bob' } })
      ]);
      expect([alice.asked, bob.asked]).toEqual([['from-alice'], ['from-bob']]);
      expect(textOf(a as Record<string, unknown>).answer.content.text).toBe('alice answers from-alice');
      expect(textOf(b as Record<string, unknown>).answer.content.text).toBe('bob answers from-bob');
      expect(app.servers.sessionInstanceCount).toBe(2);
      const pidOf = async (c: Client) => textOf(await c.callTool({ name: 'mini__pid', arguments: {} }) as Record<string, unknown>).pid as number;
      const [pidA, pidB] = [await pidOf(alice.client), await pidOf(bob.client)];
      expect(pidA).not.toBe(pidB);
      expect(await pidOf(alice.client)).toBe(pidA);
      await (alice.client.transport as StreamableHTTPClientTransport).terminateSession();
      await waitFor(() => !isAlive(pidA), 5000, 'alice\'s process gone');
      expect(app.servers.sessionInstanceCount).toBe(1);
    } finally {
      await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
      await app.close();
    }
  });

  it('warns when a shared process asks the client something while several calls are in flight', async () => {
    const lines: string[] = [];
    const log = pino({ level: 'warn' }, new Writable({ write: (chunk, _e, cb) => { lines.push(String(chunk)); cb(); } }));
    const env = loadEnv({ NODE_ENV: 'test', SANDBOX: 'none', LOG_LEVEL: 'silent' });
    const up = new StdioUpstream({ config: server('shared', [MINI]), driver: createSandboxDriver(env, log), events: new ServerEventEmitter(), log, options: stdioRuntimeOptions(env) });
    try {
      const answer = (who: string) => async () => {
        await new Promise((r) => setTimeout(r, 50));
        return { role: 'assistant', content: { type: 'text', text: who }, model: 'test' };
      };
      await Promise.all([
        up.request('tools/call', { name: 'sample', arguments: { prompt: 'one' } }, { onRequest: answer('one') }),
        up.request('tools/call', { name: 'sample', arguments: { prompt: 'two' } }, { onRequest: answer('two') })
      ]);
      const warnings = lines.map((l) => JSON.parse(l)).filter((l) => /session_affinity/.test(l.msg));
      expect(warnings.length).toBeGreaterThanOrEqual(1);
      expect(warnings[0]).toMatchObject({ method: 'sampling/createMessage', calls_in_flight: 2 });
    } finally {
      await up.close();
    }
  });
});
