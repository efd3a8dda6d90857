// Backend gaps closed after the first wave: the registration token is only needed without
// persisted credentials, spawn/restart report servers that did not come online, heartbeat
// counters come from real request counts, mcp_recovery and mcp_redeploy are their own commands.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app';
import { ConfigError } from '../../src/config/config-error';
import { testConfig } from '../helpers/config';
import { remote } from '../gateway/harness';
import { startMcpHttpServer } from '../remote/helpers/mcp-http-server';
import { backendEnv, newToken, startSatellite, stdioServer, waitFor, withBackend } from './helpers';

const MINI = resolve(__dirname, '../fixtures/servers/mini-server.mjs');
const withoutToken = (env: Record<string, string>): Record<string, string> => {
  const { DEPLOYSTACK_REGISTRATION_TOKEN: _unused, ...rest } = env;
  return rest;
};

describe('registration token only without persisted credentials', () => {
  it('starts from the credentials file alone, and names the variable when neither is there', async () => {
    await withBackend(async ({ fake, dir, apps }) => {
      const env = backendEnv(fake, dir, newToken(fake));
      // No token and no credentials file: a clear startup error.
      expect(() => testConfig(withoutToken(env))).toThrow(ConfigError);
      expect(() => testConfig(withoutToken(env))).toThrow(/DEPLOYSTACK_REGISTRATION_TOKEN.*no credentials file/);

      const first = await startSatellite(env);
      await waitFor('registration', () => first.backend?.state === 'connected');
      await first.close();
      const regs = fake.registrations.length;

      const second = await startSatellite(withoutToken(env));
      apps.push(second);
      await waitFor('connection from persisted credentials', () => second.backend?.state === 'connected');
      expect(fake.registrations.length).toBe(regs);
    });
  });

  it('refuses to start without a token when the credentials file holds no key', async () => {
    await withBackend(async ({ fake, dir }) => {
      const env = withoutToken(backendEnv(fake, dir, 'unused'));
      mkdirSync(join(dir, 'creds'), { recursive: true });
      writeFileSync(env.DEPLOYSTACK_CREDENTIALS_FILE!, '{"not": "credentials"}');
      await expect(buildApp(testConfig(env))).rejects.toThrow(/DEPLOYSTACK_REGISTRATION_TOKEN.*holds no usable API key/);
    });
  });
});

describe('server commands against the real registry', () => {
  it('fails spawn/restart of a server that does not come online, and counts requests in the heartbeat', async () => {
    await withBackend(async ({ fake, dir, apps }) => {
      fake.config = {
        mcp_servers: {
          good: stdioServer('inst-good', 'team-a', 'good', { args: [MINI], env: {} }),
          bad: stdioServer('inst-bad', 'team-a', 'bad', { args: [MINI, '--exit-on-start=2'], env: {} })
        }
      };
      const app = await startSatellite(backendEnv(fake, dir, newToken(fake), { SANDBOX: 'none' }));
      apps.push(app);
      const snap = (id: string) => app.servers.list().find((s) => s.installationId === id);
      await waitFor('good online', () => snap('inst-good')?.status === 'online', 10_000);

      const good = app.servers.get('team-a', 'good')!;
      await good.request('tools/call', { name: 'echo', arguments: { a: 1 } });
      await good.request('tools/call', { name: 'echo', arguments: { a: 2 } });
      await expect(good.request('tools/call', { name: 'no_such_tool', arguments: {} })).rejects.toThrow(/unknown tool/);
      await app.backend!.sendHeartbeat();
      const reported = (fake.heartbeats.at(-1)!.processes_by_team['team-a'] as Array<Record<string, unknown>>).find((p) => p.installation_id === 'inst-good');
      expect(reported).toMatchObject({ message_count: 3, error_count: 1 });

      const spawnBad = fake.queueCommand({ command_type: 'spawn', payload: { installation_id: 'inst-bad' } });
      const restartBad = fake.queueCommand({ command_type: 'restart', payload: { installation_id: 'inst-bad' } });
      const restartGood = fake.queueCommand({ command_type: 'restart', payload: { installation_id: 'inst-good' } });
      await app.backend!.pollCommands();
      const result = (id: string) => fake.results.find((r) => r.command_id === id);
      expect(result(spawnBad.id)).toMatchObject({ status: 'failed', error_message: expect.stringMatching(/did not come online: error.*exited with code 2/) });
      expect(result(restartBad.id)).toMatchObject({ status: 'failed', error_message: expect.stringContaining('did not come online') });
      expect(result(restartGood.id)).toMatchObject({ status: 'completed', result: { restarted: true } });
      expect(snap('inst-good')!.status).toBe('online');
    });
  });

  it('mcp_recovery reconnects an HTTP server and rediscovers its tools; mcp_redeploy restarts an installation', async () => {
    const web = await startMcpHttpServer({ name: 'recoverable' });
    try {
      await withBackend(async ({ fake, dir, apps }) => {
        fake.config = {
          mcp_servers: {
            web: remote('web', web.url, { installation_id: 'inst-web', team_slug: 'team-a-slug' }) as unknown as Record<string, unknown>,
            mini: stdioServer('inst-mini', 'team-a', 'mini', { args: [MINI], env: {} })
          }
        };
        const app = await startSatellite(backendEnv(fake, dir, newToken(fake), { SANDBOX: 'none' }));
        apps.push(app);
        const snap = (id: string) => app.servers.list().find((s) => s.installationId === id);
        await waitFor('both online', () => snap('inst-web')?.status === 'online' && snap('inst-mini')?.status === 'online', 10_000);
        const miniPid = snap('inst-mini')!.pid;
        const sessionsBefore = web.seen.filter((r) => r.method === 'POST' && !r.sessionId).length;

        const recover = fake.queueCommand({ command_type: 'configure', payload: { event: 'mcp_recovery', installation_id: 'inst-web', team_id: 'team-a' } });
        const recoverStdio = fake.queueCommand({ command_type: 'configure', payload: { event: 'mcp_recovery', installation_id: 'inst-mini' } });
        const redeploy = fake.queueCommand({ command_type: 'configure', payload: { event: 'mcp_redeploy', installation_id: 'inst-mini', commit_sha: 'abc', branch: 'main' } });
        await app.backend!.pollCommands();
        const result = (id: string) => fake.results.find((r) => r.command_id === id);
        expect(result(recover.id)).toMatchObject({ status: 'completed', result: { event: 'mcp_recovery', recovered: 1, tool_count: 6 } });
        expect(result(recoverStdio.id)).toMatchObject({ status: 'failed', error_message: expect.stringContaining('no HTTP/SSE server') });
        expect(result(redeploy.id)).toMatchObject({ status: 'completed', result: { event: 'mcp_redeploy', commit_sha: 'abc', branch: 'main', redeployed: 1 } });
        // A new upstream session (reconnect), and a new process for the redeployed installation.
        expect(web.seen.filter((r) => r.method === 'POST' && !r.sessionId).length).toBeGreaterThan(sessionsBefore);
        expect(snap('inst-mini')!.pid).not.toBe(miniPid);
        for (let i = 0; i < 50 && !fake.events.some((e) => e.data.status === 'discovering_tools'); i++) {
          await app.backend!.flushEvents();
          await new Promise((r) => setTimeout(r, 50));
        }
        const statuses = fake.events.filter((e) => e.type === 'mcp.server.status_changed' && e.data.installation_id === 'inst-web').map((e) => e.data.status as string);
        const from = statuses.lastIndexOf('connecting');
        expect(from).toBeGreaterThanOrEqual(0);
        const tail = statuses.slice(from);
        expect(tail.indexOf('discovering_tools')).toBeGreaterThan(0);
        expect(tail.at(-1)).toBe('online');
      });
    } finally {
      await web.stop();
    }
  });
});
