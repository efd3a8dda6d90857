import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import type { StandaloneConfig } from '../../src/config/standalone';
import type { CommandTargets, InstallationRef } from '../../src/backend/command-targets';
import { VERSION } from '../../src/version';
import { FakeBackend } from '../fake-backend/server';
import { backendEnv, newToken, startSatellite, stdioServer, tempDir, waitFor, withBackend } from './helpers';

function recordingTargets() {
  const calls: { op: string; arg: unknown }[] = [];
  const targets: CommandTargets = {
    start: async (ref: InstallationRef) => void calls.push({ op: 'start', arg: ref }),
    restart: async (ref: InstallationRef) => void calls.push({ op: 'restart', arg: ref }),
    stop: async (ref: InstallationRef) => void calls.push({ op: 'stop', arg: ref }),
    invalidateUserTokens: (userId: string) => {
      calls.push({ op: 'invalidate', arg: userId });
      return 3;
    },
    setToolDisabled: async (ref) => void calls.push({ op: 'tool', arg: ref }),
    healthCheck: async (opts) => {
      calls.push({ op: 'health', arg: opts });
      return { healthy: 2, unhealthy: 0 };
    },
    recover: async (ref) => {
      calls.push({ op: 'recover', arg: ref });
      return { recovered: 1 };
    },
    redeploy: async (ref) => {
      calls.push({ op: 'redeploy', arg: ref });
      return { redeployed: 1 };
    }
  };
  return { calls, targets };
}

describe('commands, config sync and heartbeat', () => {
  const fake = new FakeBackend();
  const tmp = tempDir();
  const rec = recordingTargets();
  let app: FastifyInstance;
  const A = stdioServer('inst-a', 'team-a', 'alpha');
  const B = stdioServer('inst-b', 'team-a', 'beta');
  const C = stdioServer('inst-c', 'team-b', 'gamma');

  beforeAll(async () => {
    await fake.start();
    fake.config = { mcp_servers: { 'alpha-team-a': A, 'beta-team-a': B }, satellite_config: { polling_intervals: { normal: 30 } } };
    app = await startSatellite(backendEnv(fake, tmp.dir, newToken(fake)));
    app.backend!.setTargets(rec.targets);
    app.backend!.setProcessSource(() => [
      { team_id: 'team-a', installation_id: 'inst-a', installation_name: 'alpha-team-a', status: 'online', pid: 1234, uptime_seconds: 50, message_count: 7 },
      { team_id: 'team-a', installation_id: 'inst-b', installation_name: 'beta-team-a', status: 'dormant', pid: null, uptime_seconds: 0 },
      { team_id: 'team-b', installation_id: 'inst-c', installation_name: 'gamma-team-b', status: 'permanently_failed', pid: null, uptime_seconds: 0, error_count: 4 }
    ]);
    await waitFor('connection and first config', () => app.backend?.state === 'connected' && Object.keys(app.configStore.current.mcp_servers).length === 2);
  });
  afterAll(async () => {
    await app.close();
    await fake.stop();
    tmp.cleanup();
  });

  it('sends a heartbeat with real metrics and processes grouped by team', async () => {
    await app.backend!.sendHeartbeat();
    const hb = fake.heartbeats.at(-1)!;
    expect(hb.version).toBe(VERSION);
    expect(hb.status).toBe('active');
    const m = hb.system_metrics;
    expect(m.memory_usage_mb).toBeGreaterThan(0);
    expect(m.cpu_usage_percent).toBeGreaterThanOrEqual(0);
    expect(m.cpu_usage_percent).toBeLessThanOrEqual(100);
    expect(m.disk_usage_percent).toBeGreaterThan(0);
    expect(m.disk_usage_percent).toBeLessThanOrEqual(100);
    expect(m.uptime_seconds).toBeGreaterThanOrEqual(0);
    expect(Object.keys(hb.processes_by_team).sort()).toEqual(['team-a', 'team-b']);
    expect(hb.processes_by_team['team-a']).toEqual([
      expect.objectContaining({ installation_id: 'inst-a', installation_name: 'alpha-team-a', status: 'online', pid: 1234, uptime_seconds: 50, message_count: 7, health_status: 'healthy' }),
      expect.objectContaining({ installation_id: 'inst-b', status: 'dormant', pid: null })
    ]);
    expect(hb.processes_by_team['team-b']).toEqual([expect.objectContaining({ installation_id: 'inst-c', health_status: 'unhealthy', error_count: 4 })]);
    expect(hb.error_count).toBe(1);
  });

  it('applies a configure command: the store change carries exactly the added, changed and removed servers', async () => {
    const changes: { next: StandaloneConfig; previous: StandaloneConfig }[] = [];
    const onChange = (next: StandaloneConfig, previous: StandaloneConfig) => changes.push({ next, previous });
    app.configStore.on('change', onChange);
    const configErrors: unknown[] = [];
    const off = app.events.on('config.error', (e) => configErrors.push(e.data));
    try {
      fake.config = {
        mcp_servers: {
          'alpha-team-a': { ...A, args: ['server.js', '--verbose'] },
          'gamma-team-b': { ...C, type: 'stdio', transport_type: undefined },
          broken: { installation_id: 'inst-x', team_id: 'team-a', team_slug: 'team-a-slug', server_slug: 'x', installation_name: 'x', transport_type: 'http' }
        }
      };
      const cmd = fake.queueCommand({ command_type: 'configure', payload: { event: 'mcp_installation_created', installation_id: 'inst-c' } });
      const outcome = await app.backend!.pollCommands();
      expect(outcome).toMatchObject({ ok: true, executed: 1 });
      expect(changes).toHaveLength(1);
      const { next, previous } = changes[0]!;
      const keys = (c: StandaloneConfig) => Object.keys(c.mcp_servers).sort();
      const added = keys(next).filter((k) => !previous.mcp_servers[k]);
      const removed = keys(previous).filter((k) => !next.mcp_servers[k]);
      const changed = keys(next).filter((k) => previous.mcp_servers[k] && JSON.stringify(previous.mcp_servers[k]) !== JSON.stringify(next.mcp_servers[k]));
      expect({ added, removed, changed }).toEqual({ added: ['gamma-team-b'], removed: ['beta-team-a'], changed: ['alpha-team-a'] });
      expect(next.mcp_servers['gamma-team-b']!.transport_type).toBe('stdio');
      expect(next.teams).toEqual({ 'team-a': { slug: 'team-a-slug' }, 'team-b': { slug: 'team-b-slug' } });
      expect(next.tokens).toEqual({});
      expect(configErrors).toEqual([expect.objectContaining({ entry_key: 'broken', installation_id: 'inst-x', error_message: expect.stringContaining('url') })]);
      const result = fake.results.find((r) => r.command_id === cmd.id);
      expect(result).toMatchObject({ status: 'completed', result: { configuration_applied: true, total_servers: 2, enabled_servers: 2, rejected_servers: 1 } });
      // Nothing changed since: a periodic check applies nothing.
      expect(await app.backend!.syncConfig()).toMatchObject({ changed: false });
      expect(changes).toHaveLength(1);
    } finally {
      app.configStore.off('change', onChange);
      off();
    }
  });

  it('runs a re-delivered command once and re-posts its result without re-running it', async () => {
    const before = rec.calls.length;
    const cmd = fake.queueCommand({ command_type: 'restart', payload: { installation_id: 'inst-a', team_id: 'team-a' } });
    fake.fail('command-result', { status: 500 }, 1);
    const first = await app.backend!.pollCommands();
    expect(first.ok).toBe(false);
    expect(rec.calls.slice(before)).toEqual([{ op: 'restart', arg: expect.objectContaining({ installation_id: 'inst-a' }) }]);
    expect(fake.pendingCommands.map((c) => c.id)).toContain(cmd.id);
    const second = await app.backend!.pollCommands();
    expect(second.ok).toBe(true);
    expect(rec.calls.length).toBe(before + 1);
    expect(fake.results.filter((r) => r.command_id === cmd.id)).toEqual([{ command_id: cmd.id, status: 'completed', result: expect.objectContaining({ restarted: true }) }]);
    // The backend hands the same command out again anyway: still not re-run.
    fake.queueCommand({ ...cmd });
    await app.backend!.pollCommands();
    expect(rec.calls.length).toBe(before + 1);
    expect(fake.pendingCommands).toHaveLength(0);
  });

  it('never overlaps polls: concurrent calls share one cycle', async () => {
    fake.fail('commands', { delayMs: 200 }, 1);
    const polls = fake.requests.filter((r) => r.path.endsWith('/commands')).length;
    const [a, b] = await Promise.all([app.backend!.pollCommands(), app.backend!.pollCommands()]);
    expect(a).toBe(b);
    expect(fake.requests.filter((r) => r.path.endsWith('/commands')).length).toBe(polls + 1);
  });

  it('honours next_poll_interval and backs off on errors', async () => {
    fake.nextPollInterval = 7;
    expect((await app.backend!.pollCommands()).nextDelayMs).toBe(7_000);
    fake.fail('commands', { status: 503 }, 2);
    const e1 = await app.backend!.pollCommands();
    const e2 = await app.backend!.pollCommands();
    expect(e1.ok).toBe(false);
    expect(e2.nextDelayMs).toBe(e1.nextDelayMs * 2);
    fake.nextPollInterval = undefined;
    expect((await app.backend!.pollCommands()).nextDelayMs).toBe(60_000);
    fake.nextPollInterval = 60;
  });

  it('executes the other command types against the injected targets, with backend field names', async () => {
    const cmds = [
      fake.queueCommand({ command_type: 'kill', payload: { installation_id: 'inst-a' } }),
      fake.queueCommand({ command_type: 'spawn', payload: { installation_id: 'inst-c', transport_type: 'stdio' } }),
      fake.queueCommand({ command_type: 'health_check', payload: { check_type: 'connectivity' } }),
      fake.queueCommand({ command_type: 'invalidate_user_token_cache', payload: { user_id: 'user-1', user_email: 'u@example.test' } }),
      fake.queueCommand({ command_type: 'configure', payload: { action: 'update_tool_status', installation_id: 'inst-a', tool_name: 'echo', is_disabled: true } }),
      fake.queueCommand({ command_type: 'configure', payload: { action: 'update_tool_status', installation_id: 'inst-a' } }),
      fake.queueCommand({ command_type: 'self_destruct', payload: {} }),
      fake.queueCommand({ command_type: 'restart', payload: {} }),
      fake.queueCommand({ command_type: 'configure', payload: { event: 'mcp_recovery', installation_id: 'inst-r', team_id: 'team-a' } }),
      fake.queueCommand({ command_type: 'configure', payload: { event: 'mcp_redeploy', installation_id: 'inst-d', commit_sha: 'abc123', branch: 'main' } })
    ];
    await app.backend!.pollCommands();
    const byId = (id: string) => fake.results.find((r) => r.command_id === id);
    expect(byId(cmds[0]!.id)).toMatchObject({ status: 'completed', result: { stopped: true } });
    expect(byId(cmds[1]!.id)).toMatchObject({ status: 'completed', result: { spawned: true } });
    expect(byId(cmds[2]!.id)).toMatchObject({ status: 'completed', result: { healthy: 2 } });
    expect(byId(cmds[3]!.id)).toMatchObject({ status: 'completed', result: { user_id: 'user-1', invalidated_count: 3 } });
    expect(byId(cmds[4]!.id)).toMatchObject({ status: 'completed', result: { tool_name: 'echo', is_disabled: true } });
    expect(byId(cmds[5]!.id)).toMatchObject({ status: 'failed', error_message: expect.stringContaining('is_disabled') });
    expect(byId(cmds[6]!.id)).toMatchObject({ status: 'failed', error_message: 'unknown command type "self_destruct"' });
    expect(byId(cmds[7]!.id)).toMatchObject({ status: 'failed', error_message: expect.stringContaining('installation_id') });
    expect(byId(cmds[8]!.id)).toMatchObject({ status: 'completed', result: { event: 'mcp_recovery', installation_id: 'inst-r', recovered: 1 } });
    expect(byId(cmds[9]!.id)).toMatchObject({ status: 'completed', result: { event: 'mcp_redeploy', installation_id: 'inst-d', commit_sha: 'abc123', branch: 'main', redeployed: 1 } });
    expect(fake.results.every((r) => !('error' in r))).toBe(true);
    expect(rec.calls.map((c) => c.op)).toEqual(expect.arrayContaining(['stop', 'start', 'health', 'invalidate', 'tool']));
    // Recovery and redeploy are their own operations, not a plain configuration refresh.
    expect(rec.calls.filter((c) => c.op === 'recover' || c.op === 'redeploy')).toEqual([
      { op: 'recover', arg: expect.objectContaining({ installation_id: 'inst-r', team_id: 'team-a' }) },
      { op: 'redeploy', arg: expect.objectContaining({ installation_id: 'inst-d' }) }
    ]);
    expect(fake.pendingCommands).toHaveLength(0);
  });

  it('treats a garbage poll answer as a failed poll', async () => {
    fake.fail('commands', { garbage: true }, 1);
    expect(await app.backend!.pollCommands()).toMatchObject({ ok: false, executed: 0 });
    expect(await app.backend!.pollCommands()).toMatchObject({ ok: true });
  });

  it('fetches the config again for a configure command that arrives while a periodic check is running', async () => {
    const base = fake.config as { mcp_servers: Record<string, unknown> };
    const fetches = () => fake.requests.filter((r) => r.path.endsWith('/config')).length;
    const before = fetches();
    fake.fail('config', { delayMs: 300 }, 1);
    const periodic = app.backend!.syncConfig();
    await waitFor('the slow fetch to reach the backend', () => fetches() === before + 1);
    // The backend changes the configuration after answering the periodic fetch from the old one.
    fake.config = { mcp_servers: { ...base.mcp_servers, 'late-team-a': stdioServer('inst-late', 'team-a', 'late') } };
    const [a, b] = await Promise.all([app.backend!.syncConfig('configure command'), app.backend!.syncConfig('configure command')]);
    expect(await periodic).toMatchObject({ changed: false });
    expect(a).toBe(b);
    expect(a).toMatchObject({ changed: true });
    expect(fetches()).toBe(before + 2);
    expect(app.configStore.current.mcp_servers['late-team-a']).toBeDefined();
  });

  it('keeps serving the current configuration when the config payload is garbage', async () => {
    const before = app.configStore.current;
    fake.fail('config', { garbage: true }, 1);
    await expect(app.backend!.syncConfig()).rejects.toThrow();
    expect(app.configStore.current).toBe(before);
  });
});

describe('command ledger across a restart', () => {
  it('does not re-run a command executed by the previous process', async () => {
    await withBackend(async ({ fake, dir, apps }) => {
      const rec = recordingTargets();
      let app: FastifyInstance | undefined;
      const track = (a: FastifyInstance) => (apps.push(a), a);
      app = track(await startSatellite(backendEnv(fake, dir, newToken(fake))));
      app.backend!.setTargets(rec.targets);
      await waitFor('connection', () => app!.backend?.state === 'connected');
      const cmd = fake.queueCommand({ command_type: 'restart', payload: { installation_id: 'inst-a' } });
      fake.fail('command-result', { status: 502 });
      await app.backend!.pollCommands();
      expect(rec.calls).toHaveLength(1);
      await app.close();
      fake.clearFailure();
      app = track(await startSatellite(backendEnv(fake, dir, 'deploystack_satellite_global_spent-token')));
      app.backend!.setTargets(rec.targets);
      await waitFor('reconnection', () => app!.backend?.state === 'connected');
      await app.backend!.pollCommands();
      expect(rec.calls).toHaveLength(1);
      expect(fake.results).toEqual([{ command_id: cmd.id, status: 'completed', result: expect.objectContaining({ restarted: true }) }]);
    });
  });
});
