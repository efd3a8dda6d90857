import { describe, expect, it } from 'vitest';
import { bridgeServerEvents } from '../../src/servers/event-bridge';
import { MINI, nextEvent, server, registryPerTest } from './helpers';

describe('server events → DeployStack events', () => {
  const registries = registryPerTest();

  it('reports start, crash, restart and batched, redacted stderr in the backend shapes', async () => {
    const h = await registries.start([server('mini', [MINI], { env: { SECRET_TOKEN: 'tok-123456' } })], {}, false);
    const got: { type: string; data: Record<string, any> }[] = [];
    const dispose = bridgeServerEvents(h.registry.events, (type, data) => got.push({ type, data }), { maxBatch: 5, flushMs: 60_000 });
    const up = h.registry.get('team-a', 'mini')!;
    await up.request('tools/call', { name: 'stderr', arguments: { lines: 7 } });
    const restarted = nextEvent(h.registry, 'restarted');
    await up.request('tools/call', { name: 'crash', arguments: { code: 9 } }).catch(() => undefined);
    await restarted;
    dispose();
    expect(got.filter((e) => e.type === 'mcp.server.status_changed').map((e) => e.data.status)).toEqual(['connecting', 'online', 'restarting', 'online']);
    const started = got.find((e) => e.type === 'mcp.server.started')!.data;
    expect(started).toMatchObject({ server_id: 'inst-mini', server_slug: 'mini-alpha', team_id: 'team-a', transport: 'stdio', tool_count: 0 });
    expect(typeof started.process_id).toBe('number');
    expect(got.find((e) => e.type === 'mcp.server.crashed')!.data).toMatchObject({ exit_code: 9, signal: null, crash_count: 1, will_restart: true });
    expect(got.find((e) => e.type === 'mcp.server.restarted')!.data).toMatchObject({ restart_reason: 'crash', old_process_id: started.process_id });
    // 7 lines: one batch of 5 when full, the rest flushed by dispose().
    const logs = got.filter((e) => e.type === 'mcp.server.logs');
    expect(logs.map((e) => e.data.logs.length)).toEqual([5, 2]);
    expect(logs[0]!.data).toMatchObject({ installation_id: 'inst-mini', team_id: 'team-a' });
    expect(logs[0]!.data.logs[0]).toMatchObject({ level: 'info', message: 'line 0 secret=[REDACTED]' });
    expect(JSON.stringify(got)).not.toContain('tok-123456');
  });
});
