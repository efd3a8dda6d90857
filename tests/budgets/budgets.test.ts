import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { parseStandaloneConfig } from '../../src/config/standalone';
import { BUDGET_EXHAUSTED } from '../../src/budgets/team-gate';
import { readParents, serverMemoryBytes } from '../../src/budgets/proc-memory';
import { fixtureEntry, startTestApp, textJson, type TestApp } from './helpers';

const A = { id: 'team-a', slug: 'alpha' };
const B = { id: 'team-b', slug: 'beta' };
const M = { id: 'team-m', slug: 'mem' };
const W = { id: 'team-w', slug: 'wake' };
const TOKEN_A = 'token-team-alpha-0123456789';
const TOKEN_B = 'token-team-beta-0123456789';
const TOKEN_M = 'token-team-mem-0123456789';
const TOKEN_W = 'token-team-wake-0123456789';
const MB = 1024 * 1024;

const doc = {
  teams: {
    [A.id]: { slug: A.slug, budgets: { max_concurrent_calls: 2, max_queued_calls: 2, queue_wait_ms: 1500 } },
    [B.id]: { slug: B.slug },
    [M.id]: { slug: M.slug },
    // 1 MB: any running server is over it.
    [W.id]: { slug: W.slug, budgets: { memory_mb: 1 } }
  },
  tokens: { [TOKEN_A]: { team_id: A.id }, [TOKEN_B]: { team_id: B.id }, [TOKEN_M]: { team_id: M.id }, [TOKEN_W]: { team_id: W.id } },
  mcp_servers: {
    a: fixtureEntry('work', A),
    b: fixtureEntry('work', B),
    m1: fixtureEntry('m1', M),
    m2: fixtureEntry('m2', M),
    m3: fixtureEntry('m3', M),
    w1: fixtureEntry('w1', W),
    w2: fixtureEntry('w2', W)
  }
};

describe('team budgets', () => {
  let t: TestApp;
  let app: FastifyInstance;

  beforeAll(async () => {
    t = await startTestApp(doc);
    app = t.app;
  });
  afterAll(() => t.close());

  it('a team saturating its servers is queued then refused, while another team\'s 20 calls all succeed', async () => {
    const a = await t.client(TOKEN_A);
    const b = await t.client(TOKEN_B);
    const slow = Array.from({ length: 8 }, () => a.callTool({ name: 'work__slow', arguments: { ms: 4000 } }).then(
      (r) => ({ ok: true as const, r }),
      (err: { code?: number; message?: string }) => ({ ok: false as const, code: err.code, message: err.message ?? '' })
    ));
    // Team A holds both of its slots before team B starts.
    for (let i = 0; i < 100 && app.budgets.gate.inFlight(A.id) < 2; i++) await new Promise((r) => setTimeout(r, 20));
    expect(app.budgets.gate.inFlight(A.id)).toBe(2);

    const other = await Promise.all(Array.from({ length: 20 }, (_, i) => b.callTool({ name: 'work__whoami', arguments: { i } })));
    expect(other.every((r) => r.isError !== true && typeof textJson(r).pid === 'number')).toBe(true);
    // Team B finished while team A's slow calls were still holding its slots.
    expect(app.budgets.gate.inFlight(A.id)).toBe(2);

    const status = await fetch(`${t.base}/api/status/team`, { headers: { authorization: `Bearer ${TOKEN_A}` } });
    expect(((await status.json()) as { budget: unknown }).budget).toEqual({ maxConcurrentCalls: 2, callsInFlight: 2, callsQueued: 2, memoryBudgetMb: 0 });

    const results = await Promise.all(slow);
    const ok = results.filter((r) => r.ok);
    const refused = results.filter((r) => !r.ok);
    expect(ok).toHaveLength(2);
    expect(refused).toHaveLength(6);
    for (const r of refused) {
      expect(r.code).toBe(BUDGET_EXHAUSTED);
      expect(r.message).toMatch(/Team 'alpha' has reached its limit of 2 concurrent calls/);
    }
    // Two waited in the queue until their wait ran out; the rest found the queue full.
    expect(refused.filter((r) => /within 1500 ms/.test(r.message))).toHaveLength(2);
    expect(refused.filter((r) => /queue is full/.test(r.message))).toHaveLength(4);
    expect(app.budgets.gate.inFlight(A.id)).toBe(0);
    expect(app.budgets.gate.inFlight(B.id)).toBe(0);
  });

  it('memory pressure puts the least recently used instance of the team to sleep', async () => {
    const m = await t.client(TOKEN_M);
    for (const slug of ['m1', 'm2', 'm3']) {
      await m.callTool({ name: `${slug}__whoami`, arguments: {} });
      await new Promise((r) => setTimeout(r, 10));
    }
    const upstreams = ['m1', 'm2', 'm3'].map((s) => app.servers.get(M.id, s)!);
    const pids = upstreams.map((u) => u.snapshot().pid);
    const parents = readParents();
    const rss = upstreams.map((u) => serverMemoryBytes(u.snapshot(), parents));
    expect(rss.every((n) => n > 0)).toBe(true);
    const total = rss.reduce((x, y) => x + y, 0);
    // Over budget by less than the smallest instance: putting one to sleep is enough.
    const budgetMb = Math.floor((total - Math.min(...rss) / 2) / MB);
    expect(budgetMb * MB).toBeLessThan(total);

    // The check runs as a job of the app's scheduler.
    expect(app.jobs.list().map((j) => j.name)).toContain('team-memory-budget');
    // Without a budget nothing happens.
    expect(app.budgets.checkMemory().filter((t) => t.teamId === M.id)).toEqual([]);
    const current = app.configStore.current;
    app.configStore.replace(parseStandaloneConfig({ ...current, teams: { ...current.teams, [M.id]: { slug: M.slug, budgets: { memory_mb: budgetMb } } } }, 'test'));
    await app.servers.settled();

    const report = app.budgets.checkMemory().find((t) => t.teamId === M.id);
    expect(report?.slept.map((s) => s.serverSlug)).toEqual(['m1']);
    expect(upstreams.map((u) => u.status)).toEqual(['dormant', 'online', 'online']);
    // The other teams had no memory budget and kept their servers.
    expect(app.servers.get(B.id, 'work')?.status).toBe('online');

    // A call wakes the sleeper.
    const again = await m.callTool({ name: 'm1__whoami', arguments: {} });
    expect(textJson(again).pid).not.toBe(pids[0]);
    expect(upstreams[0]!.status).toBe('online');
  });

  it('a sleeping server is not woken while its team is over budget with every server busy; it is once one is idle', async () => {
    const w = await t.client(TOKEN_W);
    const busy = w.callTool({ name: 'w1__slow', arguments: { ms: 1500 } });
    for (let i = 0; i < 100 && app.budgets.gate.inFlight(W.id) < 1; i++) await new Promise((r) => setTimeout(r, 20));
    // w2 is idle (put to sleep now, or by an earlier check); w1 is busy and stays up.
    const report = app.budgets.checkMemory().find((r) => r.teamId === W.id);
    expect(report?.slept.map((s) => s.serverSlug)).not.toContain('w1');
    expect(app.servers.get(W.id, 'w1')?.status).toBe('online');
    expect(report!.usedBytes).toBeGreaterThan(report!.budgetBytes);
    expect(app.servers.get(W.id, 'w2')?.status).toBe('dormant');

    await expect(w.callTool({ name: 'w2__whoami', arguments: {} })).rejects.toMatchObject({ code: BUDGET_EXHAUSTED, message: expect.stringMatching(/over its memory budget .* 'w2' cannot be started now/) });
    expect(app.servers.get(W.id, 'w2')?.status).toBe('dormant');

    expect(textJson(await busy).slept).toBe(1500);
    // Now w1 is idle: it makes room for w2.
    const woke = await w.callTool({ name: 'w2__whoami', arguments: {} });
    expect(typeof textJson(woke).pid).toBe('number');
    expect(app.servers.get(W.id, 'w1')?.status).toBe('dormant');
    expect(app.servers.get(W.id, 'w2')?.status).toBe('online');
    // Refusals are counted per team and budget.
    const scrape = await (await fetch(`${t.base}/metrics`)).text();
    expect(scrape).toContain('satellite_team_budget_refusals_total{team="team-a",budget="concurrency"} 6');
    expect(scrape).toContain('satellite_team_budget_refusals_total{team="team-w",budget="memory"} 1');
  });
});
