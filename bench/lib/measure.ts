// The measurements made against one endpoint: load cells, cold sessions, idle-session memory.
import type { Agent } from 'undici';
import { deadline, type JsonObject, type McpClient } from './client';
import { LegacySseClient } from './legacy-sse-client';
import { LoadStats, echoCall, percentile, round3, runLoad, type CellResult } from './load';
import { cpuMs, rssKiB, sleep } from './proc';
import { StreamableClient } from './streamable-client';
import type { Endpoint } from './targets';

export interface CellSpec {
  label: string;
  sessions: number;
  inflightPerSession: number;
}

/** C concurrent clients each with its own session, and 16 in flight on one session. */
export const CELLS: readonly CellSpec[] = [
  { label: 'C=1', sessions: 1, inflightPerSession: 1 },
  { label: 'C=16', sessions: 16, inflightPerSession: 1 },
  { label: 'C=64', sessions: 64, inflightPerSession: 1 },
  { label: '16 on 1 session', sessions: 1, inflightPerSession: 16 }
];

export interface Cell extends CellResult {
  /** CPU time of the measured process per 1,000 calls (utime+stime from /proc). */
  cpuMsPer1000Calls?: number;
  /** req/s of every run, and the calls of all runs, when a cell is repeated. */
  rpsRuns?: number[];
  callsAllRuns?: number;
}

/** The median run by req/s, carrying the errors and wrong answers of every run (none is hidden). */
export function medianRun(runs: Cell[]): Cell {
  const sorted = [...runs].sort((a, b) => a.rps - b.rps);
  const mid = sorted[Math.floor((sorted.length - 1) / 2)] as Cell;
  const sum = (k: 'errors' | 'wrong' | 'calls'): number => runs.reduce((n, r) => n + r[k], 0);
  return {
    ...mid, errors: sum('errors'), wrong: sum('wrong'), firstError: runs.find((r) => r.firstError)?.firstError,
    ...(runs.length > 1 ? { rpsRuns: runs.map((r) => r.rps), callsAllRuns: sum('calls') } : {})
  };
}

export interface Timing {
  n: number;
  p50Ms: number;
  p90Ms: number;
  maxMs: number;
  errors: number;
  firstError?: string;
}

export interface LoadOptions {
  durationMs: number;
  warmupMs: number;
  maxCalls: number;
  /** Runs per cell; the median run by req/s is reported, errors and wrong answers of all runs summed. */
  repeat: number;
}

export function connect(agent: Agent, ep: Endpoint): Promise<McpClient> {
  return ep.transport === 'streamable' ? StreamableClient.connect(agent, ep.url) : LegacySseClient.connect(agent, ep.url);
}

/** Opens n sessions, `parallel` at a time; on a failure closes what was opened and rethrows. */
export async function connectMany(agent: Agent, ep: Endpoint, n: number, parallel = 16): Promise<McpClient[]> {
  const clients: McpClient[] = [];
  try {
    for (let i = 0; i < n; i += parallel) {
      const batch = await Promise.all(Array.from({ length: Math.min(parallel, n - i) }, () => connect(agent, ep)));
      clients.push(...batch);
    }
  } catch (err) {
    await closeAll(clients);
    throw err;
  }
  return clients;
}

export async function closeAll(clients: McpClient[]): Promise<void> {
  for (let i = 0; i < clients.length; i += 32) await Promise.all(clients.slice(i, i + 32).map((c) => c.close().catch(() => undefined)));
}

/** The echo tool's name at this endpoint: `echo`, or `<slug>__echo` behind a team aggregator. */
export async function findEchoTool(client: McpClient): Promise<string> {
  const x = await client.request('tools/list', {});
  const tools = ((x.response.result as JsonObject | undefined)?.tools ?? []) as Array<{ name?: string }>;
  const names = tools.map((t) => t.name ?? '');
  const name = names.find((n) => n === 'echo') ?? names.find((n) => n.endsWith('__echo'));
  if (!name) throw new Error(`no echo tool in tools/list: ${JSON.stringify(x.response).slice(0, 300)}`);
  return name;
}

export async function measureCells(agent: Agent, ep: Endpoint, toolName: string, pid: number | undefined, o: LoadOptions, log: (s: string) => void): Promise<Record<string, Cell>> {
  const out: Record<string, Cell> = {};
  const warm = await connectMany(agent, ep, 16);
  await runLoad({ clients: warm, inflightPerClient: 1, toolName, durationMs: o.warmupMs, maxCalls: o.maxCalls });
  await closeAll(warm);
  for (const cell of CELLS) {
    const runs: Cell[] = [];
    for (let i = 0; i < o.repeat; i++) {
      const clients = await connectMany(agent, ep, cell.sessions);
      const cpu0 = pid ? cpuMs(pid) : NaN;
      const run = await runLoad({ clients, inflightPerClient: cell.inflightPerSession, toolName, durationMs: o.durationMs, maxCalls: o.maxCalls });
      const cpu1 = pid ? cpuMs(pid) : NaN;
      await closeAll(clients);
      const ok = run.calls - run.errors;
      runs.push({ ...run, cpuMsPer1000Calls: pid && ok > 0 ? Math.round(((cpu1 - cpu0) / ok) * 1000 * 10) / 10 : undefined });
    }
    const r = medianRun(runs);
    out[cell.label] = r;
    log(`  ${ep.row} ${cell.label}: ${r.rps} req/s p50 ${r.p50Ms} ms p99 ${r.p99Ms} ms, ${r.errors} errors (${r.wrong} wrong)${r.firstError ? ` first: ${r.firstError}` : ''}`);
  }
  return out;
}

export function timing(samples: number[], errors: number, firstError?: string): Timing {
  const sorted = Float64Array.from(samples).sort();
  return {
    n: samples.length, p50Ms: round3(percentile(sorted, 0.5)), p90Ms: round3(percentile(sorted, 0.9)),
    maxMs: round3(sorted.length ? (sorted[sorted.length - 1] as number) : NaN), errors, firstError
  };
}

/**
 * A fresh session's initialize → first verified tool result, in ms; undefined (and counted in
 * `stats`) when any step fails. The session is closed afterwards.
 */
export async function firstResultMs(agent: Agent, ep: Endpoint, toolName: string, text: string, stats: LoadStats): Promise<number | undefined> {
  const t0 = performance.now();
  let client: McpClient | undefined;
  try {
    client = await connect(agent, ep);
    const before = stats.errors;
    await echoCall(client, toolName, text, stats);
    return stats.errors === before ? performance.now() - t0 : undefined;
  } catch (err) {
    stats.fail(err instanceof Error ? err.message : String(err), false);
    return undefined;
  } finally {
    await client?.close();
  }
}

/** Time from sending initialize to the first verified tool result on a fresh session, n times in a row. */
export async function coldSessions(agent: Agent, ep: Endpoint, toolName: string, n: number): Promise<Timing> {
  const samples: number[] = [];
  const stats = new LoadStats(1);
  for (let i = 0; i < n; i++) {
    const ms = await firstResultMs(agent, ep, toolName, `cold-${i}`, stats);
    if (ms !== undefined) samples.push(ms);
  }
  return timing(samples, stats.errors, stats.firstError);
}

export interface IdleMemory {
  sessions: number;
  rssBeforeKiB: number;
  rssAfterKiB: number;
  miBPer1000Sessions: number;
  error?: string;
}

/** RSS delta of `pid` after opening n sessions that then stay idle (bounded by `budgetMs`). */
export async function idleSessionMemory(agent: Agent, ep: Endpoint, pid: number, n: number, budgetMs: number): Promise<IdleMemory> {
  // Load the session code paths once so that what is measured is sessions, not first use.
  await closeAll(await connectMany(agent, ep, 25));
  await sleep(500);
  const before = rssKiB(pid);
  const clients: McpClient[] = [];
  const end = Date.now() + budgetMs;
  let error: string | undefined;
  try {
    while (clients.length < n && Date.now() < end) {
      const batch = await deadline(Promise.all(Array.from({ length: Math.min(25, n - clients.length) }, () => connect(agent, ep))), 15_000, 'opening sessions');
      clients.push(...batch);
    }
    if (clients.length < n) error = `only ${clients.length} sessions opened within ${budgetMs} ms`;
  } catch (err) {
    error = err instanceof Error ? err.message : String(err);
  }
  await sleep(1000);
  const after = rssKiB(pid);
  await closeAll(clients);
  // Let the server finish tearing the sessions down before anything is timed on it.
  await sleep(2000);
  const per1000 = clients.length ? (((after - before) / 1024) * 1000) / clients.length : NaN;
  return { sessions: clients.length, rssBeforeKiB: before, rssAfterKiB: after, miBPer1000Sessions: Math.round(per1000 * 10) / 10, error };
}
