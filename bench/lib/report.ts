// The printed tables (figures, ratios, targets) and the JSON written next to them.
import type { DirectResult } from './direct';
import { CELLS, type Cell, type IdleMemory, type Timing } from './measure';
import type { Dormancy, SpawnCost } from './satellite-extras';

export interface Row {
  row: string;
  /** 'direct' for (a), 'satellite', 'sdk', or a peer name. */
  kind: string;
  cells: Record<string, Cell>;
  cold?: Timing;
  idle?: IdleMemory;
  notes: string[];
  error?: string;
}

export interface TargetCheck {
  target: string;
  measured: string;
  met: boolean | null;
}

export interface Results {
  date: string;
  machine: { cpus: number; model: string; memoryGiB: number; node: string; kernel: string; loadAvgBefore: number; loadAvgAfter?: number };
  options: Record<string, unknown>;
  rows: Row[];
  direct?: DirectResult;
  satellite: { spawn?: SpawnCost; bwrapSpawn?: SpawnCost; dormancy?: Dormancy; cpuProfile?: string };
  targets: TargetCheck[];
}

export const SATELLITE_ROW = 'satellite (no sandbox) /servers/echo/mcp';

function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]): string => r.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join('  ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

const f = (n: number | undefined, digits = 2): string => (n === undefined || Number.isNaN(n) ? '-' : n.toFixed(digits));
const ratio = (a: number | undefined, b: number | undefined): string => (a && b ? `${(a / b).toFixed(2)}x` : '-');

export function figuresTable(rows: Row[]): string {
  const header = ['endpoint'];
  for (const c of CELLS) header.push(`${c.label} req/s`, 'p50 ms', 'p99 ms');
  header.push('errors (wrong)', 'CPU ms/1k calls @C=16');
  const body = rows.filter((r) => !r.error).map((r) => {
    const cols = [r.row];
    let errors = 0;
    let wrong = 0;
    for (const c of CELLS) {
      const cell = r.cells[c.label];
      cols.push(cell ? String(cell.rps) : '-', f(cell?.p50Ms), f(cell?.p99Ms));
      errors += cell?.errors ?? 0;
      wrong += cell?.wrong ?? 0;
    }
    cols.push(`${errors} (${wrong})`, f(r.cells['C=16']?.cpuMsPer1000Calls, 0));
    return cols;
  });
  const unavailable = rows.filter((r) => r.error).map((r) => `unavailable: ${r.row}: ${r.error ?? ''}`);
  return [table(header, body), ...unavailable].join('\n');
}

/** Every satellite row's req/s against (a) and against each other row, per cell. */
export function ratioTable(rows: Row[]): string {
  const sats = rows.filter((r) => r.kind === 'satellite' && !r.error);
  const others = rows.filter((r) => r.kind !== 'satellite' && !r.error);
  const body: string[][] = [];
  for (const s of sats) {
    for (const o of others) body.push([`${s.row}  vs  ${o.row}`, ...CELLS.map((c) => ratio(s.cells[c.label]?.rps, o.cells[c.label]?.rps))]);
  }
  return table(['req/s ratio', ...CELLS.map((c) => c.label)], body);
}

export function otherTable(res: Results): string {
  const body: string[][] = [];
  for (const r of res.rows) {
    if (r.cold) body.push([`${r.row}: initialize → first result, cold session (p50 / p90 ms)`, `${f(r.cold.p50Ms)} / ${f(r.cold.p90Ms)}${r.cold.errors ? ` (${r.cold.errors} errors)` : ''}`]);
  }
  for (const r of res.rows) {
    if (r.idle) body.push([`${r.row}: RSS per 1,000 idle sessions (MiB, ${r.idle.sessions} opened)`, `${f(r.idle.miBPer1000Sessions, 1)}${r.idle.error ? ` (${r.idle.error})` : ''}`]);
  }
  if (res.direct) body.push(['echo server alone: spawn → initialized (p50 ms) / RSS (MiB)', `${f(res.direct.start.p50Ms)} / ${f(res.direct.rssMiB, 1)}`]);
  for (const [label, s] of [['no sandbox', res.satellite.spawn], ['bwrap', res.satellite.bwrapSpawn]] as const) {
    if (!s) continue;
    body.push([`satellite (${label}): server added to the config → first result through it (p50 ms)`, `${f(s.start.p50Ms)}${s.start.errors ? ` (${s.start.errors} errors: ${s.start.firstError ?? ''})` : ''}`]);
    body.push([`satellite (${label}): per spawned server, child RSS / satellite RSS growth (MiB)`, `${f(s.childRssMiB, 1)} / ${f(s.satelliteRssDeltaMiB, 1)}${s.error ? ` (${s.error})` : ''}`]);
  }
  const d = res.satellite.dormancy;
  if (d) body.push(['satellite: dormant server, initialize → first result (p50 ms)', d.error ? `not measured: ${d.error}` : `${f(d.wake?.p50Ms)} (dormant ${f((d.dormantAfterMs ?? NaN) / 1000, 1)} s after last call)`]);
  return table(['figure', 'value'], body);
}

export function checkTargets(res: Results): TargetCheck[] {
  const byRow = (name: string): Row | undefined => res.rows.find((r) => r.row === name && !r.error);
  const sat = byRow(SATELLITE_ROW);
  const proxy = byRow('mcp-proxy /mcp');
  const sdk = byRow('SDK server (in-process echo) /mcp');
  const rps = (r: Row | undefined): number | undefined => r?.cells['C=16']?.rps;
  const checks: TargetCheck[] = [];
  const vs = (what: string, other: Row | undefined, factor: number): void => {
    const a = rps(sat);
    const b = rps(other);
    checks.push({ target: `satellite Streamable HTTP req/s at C=16 ≥ ${factor}x ${what}`, measured: a && b ? `${(a / b).toFixed(2)}x (${a} vs ${b})` : 'not measured', met: a && b ? a >= factor * b : null });
  };
  vs('mcp-proxy', proxy, 2);
  vs('the SDK Streamable HTTP server transport', sdk, 1.5);
  const p99 = sat?.cells['C=16']?.p99Ms;
  checks.push({ target: 'satellite p99 < 5 ms at C=16', measured: p99 === undefined ? 'not measured' : `${p99} ms`, met: p99 === undefined ? null : p99 < 5 });
  const satRows = res.rows.filter((r) => r.kind === 'satellite' && !r.error && r.cells['C=64']);
  const wrong = satRows.reduce((n, r) => n + (r.cells['C=64']?.wrong ?? 0), 0);
  checks.push({ target: 'zero wrong answers at C=64 (every satellite endpoint)', measured: satRows.length ? `${wrong} wrong in ${satRows.length} endpoints` : 'not measured', met: satRows.length ? wrong === 0 : null });
  const idle = sat?.idle?.miBPer1000Sessions;
  checks.push({ target: 'satellite < 30 MiB per 1,000 idle sessions', measured: idle === undefined || Number.isNaN(idle) ? 'not measured' : `${idle} MiB`, met: idle === undefined || Number.isNaN(idle) ? null : idle < 30 });
  const cold = sat?.cold?.p50Ms;
  checks.push({ target: 'cold session first call < 10 ms, server running (p50)', measured: cold === undefined || Number.isNaN(cold) ? 'not measured' : `${cold} ms`, met: cold === undefined || Number.isNaN(cold) ? null : cold < 10 });
  return checks;
}

export function targetsTable(checks: TargetCheck[]): string {
  return table(['target', 'measured', 'met'], checks.map((c) => [c.target, c.measured, c.met === null ? 'n/a' : c.met ? 'yes' : 'NO']));
}
