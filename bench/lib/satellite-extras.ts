// Satellite-only figures: what one spawned stdio server costs, and waking a dormant one.
import type { Agent } from 'undici';
import { LoadStats } from './load';
import { firstResultMs, timing, type Timing } from './measure';
import { childrenOf, cmdline, processTree, rssKiB, sleep } from './proc';
import type { Endpoint, SatelliteUnderTest, ServerUnderTest } from './targets';

export interface SpawnCost {
  servers: number;
  /** Config reload (SIGHUP) adding the server → first tool result through it (spawn + initialize included). */
  start: Timing;
  /** RSS of the spawned process tree (sandbox wrapper included), per server. */
  childRssMiB: number;
  /** Growth of the satellite's own RSS per spawned server. */
  satelliteRssDeltaMiB: number;
  error?: string;
}

function serverEndpoint(sut: ServerUnderTest, slug: string): Endpoint {
  const base = new URL(sut.endpoints[0]?.url ?? '').origin;
  return { row: slug, transport: 'streamable', url: `${base}/servers/${slug}/mcp`, idleSessions: false };
}

const treeRssKiB = (pid: number): number => processTree(pid).reduce((sum, p) => sum + (rssKiB(p) || 0), 0);

/**
 * Stdio servers are started when the config names them, so a spawn is caused by adding one to the
 * config: each is added in turn and polled (5 ms apart, bounded) until a tool call through it works.
 */
export async function spawnCost(agent: Agent, sut: SatelliteUnderTest, servers: number, waitMs = 15_000): Promise<SpawnCost> {
  const samples: number[] = [];
  const stats = new LoadStats(1);
  let childKiB = 0;
  let spawned = 0;
  const rss0 = rssKiB(sut.proc.pid);
  for (let i = 0; i < servers; i++) {
    const before = new Set(childrenOf(sut.proc.pid));
    const ep = serverEndpoint(sut, `spawn-${i}`);
    const t0 = performance.now();
    sut.addServer(`spawn-${i}`);
    const probe = new LoadStats(1);
    let done = false;
    while (!done && performance.now() - t0 < waitMs) {
      done = (await firstResultMs(agent, ep, 'echo', `spawn-${i}`, probe)) !== undefined;
      if (!done) await sleep(5);
    }
    if (done) samples.push(performance.now() - t0);
    else stats.fail(probe.firstError ?? 'no answer', false);
    for (const pid of childrenOf(sut.proc.pid).filter((p) => !before.has(p))) {
      childKiB += treeRssKiB(pid);
      spawned++;
    }
  }
  await sleep(500);
  const delta = rssKiB(sut.proc.pid) - rss0;
  return {
    servers, start: timing(samples, stats.errors, stats.firstError),
    childRssMiB: spawned ? Math.round((childKiB / spawned / 1024) * 10) / 10 : NaN,
    satelliteRssDeltaMiB: Math.round((delta / servers / 1024) * 10) / 10,
    error: spawned === 0 ? 'no new child process seen' : undefined
  };
}

export interface Dormancy {
  /** How long after the last call the echo process was gone. */
  dormantAfterMs?: number;
  /** initialize → first tool result on a dormant server (includes the respawn). */
  wake?: Timing;
  error?: string;
}

const echoChildren = (pid: number): number[] => childrenOf(pid).filter((p) => processTree(p).some((q) => cmdline(q).includes('echo-server.mjs')));

/** Needs a satellite started with a short MCP_PROCESS_IDLE_TIMEOUT_SECONDS. */
export async function dormancy(agent: Agent, sut: ServerUnderTest, rounds: number, waitBudgetMs: number): Promise<Dormancy> {
  const ep = serverEndpoint(sut, 'echo');
  const stats = new LoadStats(1);
  const wakes: number[] = [];
  let dormantAfterMs: number | undefined;
  for (let r = 0; r < rounds; r++) {
    await firstResultMs(agent, ep, 'echo', `prime-${r}`, stats);
    if (echoChildren(sut.proc.pid).length === 0) return { error: `the echo server is not a child of the satellite after a call${stats.firstError ? `: ${stats.firstError}` : ''}` };
    const t0 = Date.now();
    while (echoChildren(sut.proc.pid).length > 0 && Date.now() - t0 < waitBudgetMs) await sleep(200);
    if (echoChildren(sut.proc.pid).length > 0) {
      return { error: `no dormancy within ${Math.round(waitBudgetMs / 1000)} s of idleness (MCP_PROCESS_IDLE_TIMEOUT_SECONDS=1)` };
    }
    dormantAfterMs = Math.max(dormantAfterMs ?? 0, Date.now() - t0);
    const ms = await firstResultMs(agent, ep, 'echo', `wake-${r}`, stats);
    if (ms !== undefined) wakes.push(ms);
  }
  return { dormantAfterMs, wake: timing(wakes, stats.errors, stats.firstError) };
}
