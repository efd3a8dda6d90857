// `npm run bench`: measures, in one run on one machine, the echo server over stdio (a), the
// satellite in front of it (b), peers in front of it (c) and the SDK's own server transport (d).
// Everything on 127.0.0.1; every loop bounded in calls and time. See bench/README.md.
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, release, totalmem } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { Agent } from 'undici';
import { measureDirect } from './lib/direct';
import { closeAll, coldSessions, connect, findEchoTool, idleSessionMemory, measureCells, type LoadOptions } from './lib/measure';
import { parseOptions, USAGE, type BenchOptions } from './lib/options';
import { checkTargets, figuresTable, otherTable, ratioTable, targetsTable, type Results, type Row } from './lib/report';
import { dormancy, spawnCost } from './lib/satellite-extras';
import {
  peersInstalled, profileDir, ROOT, satelliteEntry, startMcpProxy, startSatellite, startSdkServer, startSupergateway, type ServerUnderTest
} from './lib/targets';

const log = (s: string): void => void process.stderr.write(`${s}\n`);
const message = (err: unknown): string => (err instanceof Error ? err.message : String(err));

/** Every endpoint of one server: load cells, cold sessions and (where meaningful) idle-session memory. */
async function measureServer<S extends ServerUnderTest>(agent: Agent, kind: string, start: () => Promise<S>, o: BenchOptions, after?: (sut: S) => Promise<void>): Promise<Row[]> {
  let sut: S;
  try {
    sut = await start();
  } catch (err) {
    return [{ row: kind, kind, cells: {}, notes: [], error: message(err) }];
  }
  log(`${sut.name} (pid ${sut.proc.pid})`);
  const load: LoadOptions = { durationMs: o.durationMs, warmupMs: o.warmupMs, maxCalls: o.maxCalls, repeat: o.repeat };
  const rows: Row[] = [];
  try {
    for (const ep of sut.endpoints) {
      const row: Row = { row: ep.row, kind, cells: {}, notes: sut.notes };
      rows.push(row);
      try {
        const probe = await connect(agent, ep);
        const tool = await findEchoTool(probe).finally(() => closeAll([probe]));
        // Idle sessions first, on a fresh process: after the load cells its heap has already grown
        // and would absorb the sessions without any RSS change.
        if (ep.idleSessions) row.idle = await idleSessionMemory(agent, ep, sut.proc.pid, o.idleSessions, o.quick ? 30_000 : 120_000);
        row.cells = await measureCells(agent, ep, tool, sut.proc.pid, load, log);
        row.cold = await coldSessions(agent, ep, tool, o.coldRuns);
      } catch (err) {
        row.error = message(err);
        log(`  ${ep.row}: ${row.error}`);
      }
    }
    await after?.(sut);
  } finally {
    const stop = (await sut.stop()) as { ms: number; killed: boolean } | undefined;
    if (stop) {
      log(`  ${sut.name}: ${stop.killed ? 'did not exit within 15 s of SIGTERM: killed' : `exited ${stop.ms} ms after SIGTERM`}`);
      for (const r of rows) r.notes = [...r.notes, `SIGTERM → exit: ${stop.killed ? 'killed after 15 s' : `${stop.ms} ms`}`];
    }
  }
  return rows;
}

function machine(): Results['machine'] {
  return {
    cpus: cpus().length, model: cpus()[0]?.model ?? 'unknown', memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version, kernel: release(), loadAvgBefore: loadavg()[0] ?? 0
  };
}

async function main(): Promise<void> {
  if (process.argv.includes('--help')) {
    log(USAGE);
    return;
  }
  const o = parseOptions(process.argv.slice(2), process.env);
  process.chdir(ROOT);
  // One dedicated pool: enough keep-alive connections for 64 clients plus legacy SSE streams.
  const agent = new Agent({ connections: 512, pipelining: 1, keepAliveTimeout: 30_000 });
  const res: Results = { date: new Date().toISOString(), machine: machine(), options: { ...o, only: [...o.only] }, rows: [], satellite: {}, targets: [] };

  if (o.only.has('direct')) {
    log('(a) echo server over stdio');
    res.direct = await measureDirect({ durationMs: o.durationMs, warmupMs: o.warmupMs, maxCalls: o.maxCalls, repeat: o.repeat }, 5, log);
    res.rows.push({ row: '(a) echo server, direct stdio', kind: 'direct', cells: res.direct.cells, notes: ['C in flight on the one stdio pipe'] });
  }

  if (o.only.has('satellite')) {
    const entry = satelliteEntry(o.satellite, log);
    res.options.satelliteEntry = entry.label;
    const prof = o.profile ? profileDir() : undefined;
    res.rows.push(...await measureServer(agent, 'satellite', () => startSatellite(agent, { entry, sandbox: 'none', cpuProfileDir: prof }), o, async (sut) => {
      res.satellite.spawn = await spawnCost(agent, sut, o.spawnServers);
    }));
    if (prof) res.satellite.cpuProfile = readdirSync(prof).map((f) => join(prof, f))[0];
    if (o.bwrap) {
      res.rows.push(...await measureServer(agent, 'satellite', () => startSatellite(agent, { entry, sandbox: 'bwrap' }), o, async (sut) => {
        res.satellite.bwrapSpawn = await spawnCost(agent, sut, o.spawnServers);
      }));
    }
    if (o.dormancyRounds > 0) {
      log('satellite dormancy (MCP_PROCESS_IDLE_TIMEOUT_SECONDS=1)');
      try {
        const sut = await startSatellite(agent, { entry, sandbox: 'none', idleTimeoutSeconds: 1 });
        try {
          res.satellite.dormancy = await dormancy(agent, sut, o.dormancyRounds, o.dormancyWaitMs);
        } finally {
          await sut.stop();
        }
      } catch (err) {
        res.satellite.dormancy = { error: message(err) };
      }
    }
  }

  if (o.only.has('sdk')) res.rows.push(...await measureServer(agent, 'sdk', () => startSdkServer(agent), o));

  const wantPeers = o.only.has('supergateway') || o.only.has('mcp-proxy');
  if (wantPeers && !peersInstalled()) {
    log('peers not installed: run scripts/install-bench-peers.sh');
    for (const p of ['supergateway', 'mcp-proxy']) if (o.only.has(p)) res.rows.push({ row: p, kind: p, cells: {}, notes: [], error: 'not installed (scripts/install-bench-peers.sh)' });
  } else {
    if (o.only.has('supergateway')) {
      res.rows.push(...await measureServer(agent, 'supergateway', () => startSupergateway(agent, 'sse'), o));
      res.rows.push(...await measureServer(agent, 'supergateway', () => startSupergateway(agent, 'streamable'), o));
    }
    if (o.only.has('mcp-proxy')) res.rows.push(...await measureServer(agent, 'mcp-proxy', () => startMcpProxy(agent), o));
  }
  await agent.close();

  res.machine.loadAvgAfter = loadavg()[0];
  res.targets = checkTargets(res);
  const peerVersions = peersInstalled() ? readPeerVersions() : {};
  res.options.peers = peerVersions;
  const out = resolve(ROOT, o.out);
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, JSON.stringify(res, null, 2) + '\n');

  const m = res.machine;
  // Other work on the machine shares the CPUs with both the load generator and the server (the
  // load average after a run includes the benchmark itself, so only the one before tells).
  const busy = m.loadAvgBefore > m.cpus / 2
    ? `\nWARNING: load average ${m.loadAvgBefore.toFixed(1)} on ${m.cpus} CPUs at the start: other work was running, figures are not comparable`
    : '';
  process.stdout.write([
    `\nSatellite benchmark ${res.date} — ${m.cpus} × ${m.model}, ${m.memoryGiB} GiB, Node ${m.node}, ${o.durationMs / 1000} s per cell${busy}`,
    '', figuresTable(res.rows), '', ratioTable(res.rows), '', otherTable(res), '', targetsTable(res.targets),
    res.satellite.cpuProfile ? `\nCPU profile of the satellite: ${res.satellite.cpuProfile}` : '', `\nJSON: ${out}\n`
  ].join('\n'));
}

function readPeerVersions(): Record<string, string> {
  const v: Record<string, string> = {};
  for (const p of ['supergateway', 'mcp-proxy']) {
    try {
      v[p] = (JSON.parse(readFileSync(join(ROOT, '.cache', 'bench', 'node_modules', p, 'package.json'), 'utf8')) as { version: string }).version;
    } catch {
      v[p] = 'unknown';
    }
  }
  return v;
}

main().catch((err: unknown) => {
  log(`bench: ${message(err)}`);
  process.exit(1);
});
