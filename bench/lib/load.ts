// The load loop: W workers per client session, each issuing echo tools/call back to back until
// the time or call budget runs out. Every answer is checked against the payload it was sent with,
// so an answer delivered to the wrong caller counts as wrong (and as an error).
import { randomBytes } from 'node:crypto';
import type { JsonObject, McpClient, RpcExchange } from './client';

export interface LoadSpec {
  clients: McpClient[];
  /** Requests in flight per client session. */
  inflightPerClient: number;
  toolName: string;
  durationMs: number;
  maxCalls: number;
}

export interface CellResult {
  sessions: number;
  inflight: number;
  calls: number;
  errors: number;
  /** Answers that came back but were not the answer to what was sent (subset of errors). */
  wrong: number;
  durationMs: number;
  rps: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  firstError?: string;
}

/** Why an exchange is not the echo of `text`, or undefined when it is. */
export function checkEcho(x: RpcExchange, text: string): string | undefined {
  const r = x.response;
  if (r.id !== x.id) return `answer id ${JSON.stringify(r.id)} for request id ${x.id}`;
  if (r.error !== undefined) return `JSON-RPC error ${JSON.stringify(r.error).slice(0, 200)}`;
  const result = r.result as JsonObject | undefined;
  const content = result?.content;
  const first = Array.isArray(content) ? (content[0] as JsonObject | undefined) : undefined;
  if (first?.text !== text) return `payload ${JSON.stringify(first?.text ?? result).slice(0, 120)} for ${JSON.stringify(text)}`;
  if (result?.isError === true) return 'isError result';
  return undefined;
}

export function percentile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[i] as number;
}

export class LoadStats {
  private lat: Float64Array;
  private n = 0;
  errors = 0;
  wrong = 0;
  firstError: string | undefined;

  constructor(capacity: number) {
    this.lat = new Float64Array(Math.max(16, capacity));
  }

  ok(ms: number): void {
    if (this.n < this.lat.length) this.lat[this.n++] = ms;
  }

  fail(msg: string, wrong: boolean): void {
    this.errors++;
    if (wrong) this.wrong++;
    this.firstError ??= msg;
  }

  get okCount(): number {
    return this.n;
  }

  sorted(): Float64Array {
    return this.lat.slice(0, this.n).sort();
  }
}

/** One echo call, measured and verified. */
export async function echoCall(client: McpClient, toolName: string, text: string, stats: LoadStats): Promise<void> {
  const t0 = performance.now();
  let x: RpcExchange;
  try {
    x = await client.request('tools/call', { name: toolName, arguments: { text } });
  } catch (err) {
    stats.fail(err instanceof Error ? err.message : String(err), false);
    return;
  }
  const ms = performance.now() - t0;
  const bad = checkEcho(x, text);
  if (bad === undefined) stats.ok(ms);
  else stats.fail(bad, !('error' in x.response) || x.response.id !== x.id);
}

export async function runLoad(spec: LoadSpec): Promise<CellResult> {
  const stats = new LoadStats(spec.maxCalls);
  const start = performance.now();
  const endAt = start + spec.durationMs;
  let issued = 0;
  const workers: Promise<void>[] = [];
  spec.clients.forEach((client, ci) => {
    // A per-client random tag: an answer crossing to another session cannot match by accident.
    const tag = `${ci}-${randomBytes(6).toString('hex')}`;
    let seq = 0;
    for (let w = 0; w < spec.inflightPerClient; w++) {
      workers.push((async () => {
        while (performance.now() < endAt && issued < spec.maxCalls) {
          issued++;
          await echoCall(client, spec.toolName, `${tag}-${seq++}`, stats);
        }
      })());
    }
  });
  await Promise.all(workers);
  const durationMs = performance.now() - start;
  const sorted = stats.sorted();
  return {
    sessions: spec.clients.length,
    inflight: spec.inflightPerClient * spec.clients.length,
    calls: issued,
    errors: stats.errors,
    wrong: stats.wrong,
    durationMs: Math.round(durationMs),
    rps: Math.round((stats.okCount / durationMs) * 1000),
    p50Ms: round3(percentile(sorted, 0.5)),
    p99Ms: round3(percentile(sorted, 0.99)),
    maxMs: round3(sorted.length ? (sorted[sorted.length - 1] as number) : NaN),
    firstError: stats.firstError
  };
}

export function round3(n: number): number {
  return Math.round(n * 1000) / 1000;
}
