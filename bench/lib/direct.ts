// Row (a): the echo server over its own stdio, no gateway: C requests in flight on the one pipe.
import { runLoad } from './load';
import { CELLS, medianRun, timing, type Cell, type LoadOptions, type Timing } from './measure';
import { rssKiB } from './proc';
import { StdioClient } from './stdio-client';
import { ECHO_SERVER } from './targets';

export interface DirectResult {
  cells: Record<string, Cell>;
  /** spawn → initialize answered. */
  start: Timing;
  rssMiB: number;
}

export async function measureDirect(o: LoadOptions, startRuns: number, log: (s: string) => void): Promise<DirectResult> {
  const starts: number[] = [];
  let rss = NaN;
  for (let i = 0; i < startRuns; i++) {
    const t0 = performance.now();
    const c = await StdioClient.spawn(process.execPath, [ECHO_SERVER]);
    starts.push(performance.now() - t0);
    if (c.pid) rss = rssKiB(c.pid) / 1024;
    await c.close();
  }
  const client = await StdioClient.spawn(process.execPath, [ECHO_SERVER]);
  const cells: Record<string, Cell> = {};
  try {
    await runLoad({ clients: [client], inflightPerClient: 16, toolName: 'echo', durationMs: o.warmupMs, maxCalls: o.maxCalls });
    for (const cell of CELLS) {
      const inflight = cell.sessions * cell.inflightPerSession;
      const runs: Cell[] = [];
      for (let i = 0; i < o.repeat; i++) runs.push(await runLoad({ clients: [client], inflightPerClient: inflight, toolName: 'echo', durationMs: o.durationMs, maxCalls: o.maxCalls }));
      const r = medianRun(runs);
      cells[cell.label] = { ...r, sessions: cell.sessions };
      log(`  direct stdio ${cell.label}: ${r.rps} req/s p50 ${r.p50Ms} ms p99 ${r.p99Ms} ms, ${r.errors} errors (${r.wrong} wrong)`);
    }
  } finally {
    await client.close();
  }
  return { cells, start: timing(starts, 0), rssMiB: Math.round(rss * 10) / 10 };
}
