import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app';
import type { McpServerConfig } from '../../src/config/server-config';
import gatewayPlugin from '../../src/plugins/gateway';
import { testConfig } from '../helpers/config';
import { backendEnv, newToken, startSatellite, stdioServer, waitFor, withBackend } from './helpers';

const MINI = resolve(__dirname, '../fixtures/servers/mini-server.mjs');

describe('backend commands against the real server registry', () => {
  it('reports real processes of two teams and restarts, stops and health-checks them by installation', async () => {
    await withBackend(async ({ fake, dir, apps }) => {
      fake.config = {
        mcp_servers: {
          'mini-a': stdioServer('inst-a', 'team-a', 'mini', { args: [MINI], env: {} }),
          'mini-b': stdioServer('inst-b', 'team-b', 'mini', { args: [MINI], env: {} })
        }
      };
      const app = await startSatellite(backendEnv(fake, dir, newToken(fake), { SANDBOX: 'none' }));
      apps.push(app);
      const status = (id: string) => app.servers.list().find((s) => s.installationId === id);
      await waitFor('both servers online', () => status('inst-a')?.status === 'online' && status('inst-b')?.status === 'online', 10_000);

      await app.backend!.sendHeartbeat();
      const hb = fake.heartbeats.at(-1)!;
      const pidA = status('inst-a')!.pid!;
      expect(hb.processes_by_team['team-a']).toEqual([expect.objectContaining({ installation_id: 'inst-a', installation_name: 'mini-team-a-inst-a', status: 'online', pid: pidA, health_status: 'healthy' })]);
      expect(hb.processes_by_team['team-b']).toEqual([expect.objectContaining({ installation_id: 'inst-b', status: 'online', pid: status('inst-b')!.pid })]);

      const restart = fake.queueCommand({ command_type: 'restart', payload: { installation_id: 'inst-a', team_id: 'team-a' } });
      const wrongTeam = fake.queueCommand({ command_type: 'restart', payload: { installation_id: 'inst-a', team_id: 'team-b' } });
      const kill = fake.queueCommand({ command_type: 'kill', payload: { installation_id: 'inst-b' } });
      const health = fake.queueCommand({ command_type: 'health_check', payload: { installation_id: 'inst-a' } });
      await app.backend!.pollCommands();
      const result = (id: string) => fake.results.find((r) => r.command_id === id);
      expect(result(restart.id)).toMatchObject({ status: 'completed' });
      expect(result(wrongTeam.id)).toMatchObject({ status: 'failed', error_message: expect.stringContaining('inst-a') });
      expect(result(kill.id)).toMatchObject({ status: 'completed' });
      expect(result(health.id)).toMatchObject({ status: 'completed', result: { healthy: 1, unhealthy: 0, servers: [expect.objectContaining({ installation_id: 'inst-a' })] } });
      await waitFor('team-a server back online', () => status('inst-a')?.status === 'online', 10_000);
      expect(status('inst-a')!.pid).not.toBe(pidA);
      expect(status('inst-b')!.status).toBe('stopped');
      // Each command leaves one audit record, failures with their reason.
      const audit = readFileSync(join(dir, 'data', 'audit.log'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
      const commands = audit.filter((r) => r.action === 'command.executed');
      expect(commands.map((r) => [r.command, r.commandId, r.outcome])).toEqual([
        ['restart', restart.id, 'ok'],
        ['restart', wrongTeam.id, 'error'],
        ['kill', kill.id, 'ok'],
        ['health_check', health.id, 'ok']
      ]);
    });
  });

  it('switches a tool off in the team gateway on update_tool_status', async () => {
    await withBackend(async ({ fake, dir, apps }) => {
      const entry = stdioServer('inst-a', 'team-a', 'mini', { args: [MINI], env: {} });
      fake.config = { mcp_servers: { 'mini-a': entry } };
      const app = await buildApp(testConfig(backendEnv(fake, dir, newToken(fake), { SANDBOX: 'none' })));
      apps.push(app);
      if (!app.hasDecorator('teamGateway')) await app.register(gatewayPlugin);
      await app.listen({ port: 0, host: '127.0.0.1' });
      await waitFor('connection', () => app.backend?.state === 'connected');
      const cmd = fake.queueCommand({ command_type: 'configure', payload: { action: 'update_tool_status', installation_id: 'inst-a', tool_name: 'echo', is_disabled: true } });
      await app.backend!.pollCommands();
      expect(fake.results.find((r) => r.command_id === cmd.id)).toMatchObject({ status: 'completed' });
      expect(app.teamGateway.disabled.isDisabled(entry as unknown as McpServerConfig, 'echo')).toBe(true);
      expect(app.teamGateway.disabled.isDisabled(entry as unknown as McpServerConfig, 'other')).toBe(false);
    });
  });
});
