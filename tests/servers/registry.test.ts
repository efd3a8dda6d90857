import { describe, expect, it } from 'vitest';
import { MINI, configOf, isAlive, nextEvent, server, textOf, type Harness, registryPerTest } from './helpers';

const pidOf = (h: Harness, slug: string, teamId = 'team-a') => h.registry.list(teamId).find((s) => s.serverSlug === slug)?.pid;

describe('ServerRegistry', () => {
  const registries = registryPerTest();

  it('puts an idle server to sleep and wakes it transparently, once, for concurrent callers', async () => {
    const h = await registries.start([server('sleepy', [MINI])], { idleTimeoutMs: 1000, spawnGraceMs: 0 });
    const up = h.registry.get('team-a', 'sleepy')!;
    const pid = pidOf(h, 'sleepy')!;
    const now = Date.now();
    expect(h.registry.checkDormancy(now)).toBe(0);
    const dormant = nextEvent(h.registry, 'dormant');
    expect(h.registry.checkDormancy(now + 5000)).toBe(1);
    expect(await dormant).toMatchObject({ serverSlug: 'sleepy', pid });
    expect(up.status).toBe('dormant');
    for (let i = 0; i < 100 && isAlive(pid); i++) await new Promise((r) => setTimeout(r, 20));
    expect(isAlive(pid)).toBe(false);

    let respawns = 0;
    h.registry.events.on('respawned', () => respawns++);
    const results = await Promise.all([1, 2, 3].map((n) => up.request('tools/call', { name: 'echo', arguments: { n } })));
    expect(results.map((r) => (r.structuredContent as { echo: { n: number } }).echo.n)).toEqual([1, 2, 3]);
    expect(respawns).toBe(1);
    expect(up.status).toBe('online');
    expect(pidOf(h, 'sleepy')).not.toBe(pid);
  });

  it('does not put a server to sleep while a call is in flight or inside the spawn grace period', async () => {
    const h = await registries.start([server('busy', [MINI]), server('young', [MINI], { installation_id: 'inst-young' })], { idleTimeoutMs: 1, spawnGraceMs: 0 });
    const pending = h.registry.get('team-a', 'busy')!.request('tools/call', { name: 'hang', arguments: {} }, { timeoutMs: 2000 }).catch(() => undefined);
    await new Promise((r) => setTimeout(r, 30));
    expect(h.registry.checkDormancy(Date.now() + 10_000)).toBe(1); // only `young`
    expect(h.registry.get('team-a', 'busy')!.status).toBe('online');
    void pending;
  });

  it('applies config diffs: restarts only the changed server, spawns added ones, stops removed ones', async () => {
    const a = server('a', [MINI]);
    const b = server('b', [MINI]);
    const c = server('c', [MINI]);
    const h = await registries.start([a, b, c]);
    const pidA = pidOf(h, 'a')!;
    const pidB = pidOf(h, 'b')!;
    const pidC = pidOf(h, 'c')!;
    h.store.replace(configOf([a, { ...b, env: { CHANGED: '1' } }, server('d', [MINI])]));
    await h.registry.settled();
    expect(pidOf(h, 'a')).toBe(pidA);
    expect(pidOf(h, 'b')).not.toBe(pidB);
    expect(h.registry.get('team-a', 'c')).toBeUndefined();
    expect(h.registry.list().map((s) => [s.serverSlug, s.status]).sort()).toEqual([['a', 'online'], ['b', 'online'], ['d', 'online']]);
    expect(isAlive(pidA)).toBe(true);
    for (let i = 0; i < 100 && (isAlive(pidB) || isAlive(pidC)); i++) await new Promise((r) => setTimeout(r, 20));
    expect(isAlive(pidB)).toBe(false);
    expect(isAlive(pidC)).toBe(false);
  });

  it('a config change brings a permanently failed server back', async () => {
    const crashy = server('phoenix', [MINI, '--crash-after-init=20']);
    const h = await registries.start([crashy]);
    await nextEvent(h.registry, 'permanently_failed');
    h.store.replace(configOf([{ ...crashy, args: [MINI] }]));
    await h.registry.settled();
    expect(h.registry.list()[0]).toMatchObject({ serverSlug: 'phoenix', status: 'online', crashCount: 0 });
  });

  it('keeps two teams with the same slug apart, and per-user instances apart', async () => {
    const teamB = { team_id: 'team-b', team_slug: 'beta', installation_id: 'inst-b' };
    const h = await registries.start([
      server('mini', [MINI]),
      server('mini', [MINI], teamB),
      server('mini', [MINI], { ...teamB, installation_id: 'inst-b-bob', user_id: 'bob' })
    ]);
    const a = h.registry.get('team-a', 'mini')!;
    const b = h.registry.get('team-b', 'mini')!;
    const bob = h.registry.get('team-b', 'mini', 'bob')!;
    const pids = await Promise.all([a, b, bob].map(async (u) => textOf(await u.request('tools/call', { name: 'pid', arguments: {} })).pid));
    expect(new Set(pids).size).toBe(3);
    expect(h.registry.list('team-a')).toHaveLength(1);
    expect(h.registry.list('team-b')).toHaveLength(2);
    expect(h.registry.forTeam('team-b').map((u) => u.config.user_id)).toEqual([undefined]);
    // Bob's own instance stands in for the team's shared one of the same slug.
    expect(h.registry.forTeam('team-b', 'bob').map((u) => u.config.user_id)).toEqual(['bob']);
    expect(h.registry.get('team-c', 'mini')).toBeUndefined();
    expect(h.registry.find({ installation_id: 'inst-b-bob' }).map((u) => u.teamId)).toEqual(['team-b']);
    expect(h.registry.find({ installation_name: 'mini-alpha' }).map((u) => u.teamId).sort()).toEqual(['team-a', 'team-b', 'team-b']);
    expect(h.registry.find({ installation_name: 'mini-alpha', team_id: 'team-b', user_id: 'bob' })).toHaveLength(1);
    expect(h.registry.find({})).toEqual([]);
    expect(h.registry.byInstallation('inst-b-bob', 'bob')).toHaveLength(1);
    expect(h.registry.byInstallation('inst-b-bob', 'alice')).toHaveLength(0);
  });

  it('starts lazily when asked to, and skips disabled entries', async () => {
    const h = await registries.start([server('lazy', [MINI]), server('off', [MINI], { enabled: false })], {}, false);
    expect(h.registry.list()).toMatchObject([{ serverSlug: 'lazy', status: 'stopped' }]);
    expect(h.registry.get('team-a', 'off')).toBeUndefined();
    const started = nextEvent(h.registry, 'started');
    await h.registry.get('team-a', 'lazy')!.ensureReady();
    expect((await started).spawn_duration_ms).toBeGreaterThanOrEqual(0);
    expect(h.registry.list()[0]).toMatchObject({ status: 'online', memoryEnforcement: expect.stringMatching(/cgroup|rlimit_as|none/) });
  });

  it('uses the entry\'s timeout for its requests', async () => {
    const h = await registries.start([server('slow', [MINI], { timeout: 200 })], { requestTimeoutMs: 60_000 });
    const err = await h.registry.get('team-a', 'slow')!.request('tools/call', { name: 'hang', arguments: {} }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: -32001, message: 'Request timed out', data: { timeout: 200 } });
  });

  it('reports request and error counts for the heartbeat', async () => {
    const h = await registries.start([server('counted', [MINI])]);
    const up = h.registry.get('team-a', 'counted')!;
    await up.request('tools/list', undefined);
    await up.request('tools/call', { name: 'nope', arguments: {} }).catch(() => undefined);
    expect(h.registry.list()[0]).toMatchObject({ installationId: 'inst-counted', status: 'online', requestCount: 2, errorCount: 1 });
  });

  it('closeAll terminates every child', async () => {
    const h = await registries.start([server('x', [MINI]), server('y', [MINI])]);
    const pids = h.registry.list().map((s) => s.pid!);
    await h.registry.closeAll();
    expect(pids.filter(isAlive)).toEqual([]);
    expect(h.registry.list()).toEqual([]);
  });
});
