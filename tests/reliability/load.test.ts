// Load: 1,000 concurrent sessions across 10 teams and 20 stdio servers, steady echo calls with a
// bounded number in flight, every answer checked against what was sent; then the heap (after a
// forced GC) must come back to where a first identical round left it: no leak per session or call.
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { Agent } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { echoCall, LoadStats } from '../../bench/lib/load';
import { StreamableClient } from '../../bench/lib/streamable-client';
import { buildApp } from '../../src/app';
import { testConfig } from '../helpers/config';
import { settledBreakdown } from './memory-probe';

const ECHO = join(__dirname, '..', '..', 'bench', 'echo-server.mjs');
const TEAMS = 10;
const SESSIONS = 1000;
const IN_FLIGHT = 64;
// 30 s of steady calls in the measured round, as the issue asks (the file takes ~45 s on a quiet
// 2-core box); RELIABILITY_LOAD_MS shortens it for local runs or lengthens it for a soak.
const STEADY_MS = Number(process.env.RELIABILITY_LOAD_MS ?? 30_000);
const MAX_CALLS = 400_000;

const token = (t: number) => `load-team-${t}-token-0123456789abcdef`;
const servers = () => {
  const out: Record<string, object> = {};
  for (let t = 0; t < TEAMS; t++) {
    for (const s of ['one', 'two']) {
      out[`t${t}-${s}`] = {
        installation_id: `inst-${t}-${s}`, team_id: `team-${t}`, team_slug: `team-${t}`, server_slug: s,
        installation_name: `t${t}-${s}`, transport_type: 'stdio', command: 'node', args: [ECHO], enabled: true
      };
    }
  }
  return out;
};

interface Target { url: string; tool: string; token: string }
/** Session i: team i % 10; alternately the team endpoint (renamed tool) and one server passed through. */
function target(base: string, i: number): Target {
  const t = i % TEAMS;
  const server = (i >> 1) % 2 === 0 ? 'one' : 'two';
  return i % 2 === 0
    ? { url: `${base}/mcp`, tool: `${server}__echo`, token: token(t) }
    : { url: `${base}/servers/${server}/mcp`, tool: 'echo', token: token(t) };
}

describe('load: 1,000 sessions, 10 teams, 20 stdio servers', () => {
  let app: FastifyInstance;
  let base: string;
  const agent = new Agent({ connections: IN_FLIGHT, pipelining: 1 });

  beforeAll(async () => {
    const tokens: Record<string, object> = {};
    const teams: Record<string, object> = {};
    for (let t = 0; t < TEAMS; t++) {
      tokens[token(t)] = { team_id: `team-${t}`, user_id: `user-${t}`, scopes: ['mcp:read', 'mcp:tools:execute'] };
      teams[`team-${t}`] = { slug: `team-${t}` };
    }
    app = await buildApp(testConfig(
      { TEAM_RATE_LIMIT_RPS: '0', TEAM_MAX_CONCURRENT_REQUESTS: '0', MCP_PROCESS_IDLE_TIMEOUT_SECONDS: '0' },
      { teams, tokens, mcp_servers: servers() } as never
    ));
    base = await app.listen({ port: 0, host: '127.0.0.1' });
  });
  afterAll(async () => {
    await agent.close();
    await app.close();
  });

  /** Opens SESSIONS sessions (IN_FLIGHT at a time), runs the steady load, closes them all. */
  async function round(steadyMs: number): Promise<{ stats: LoadStats; calls: number; peakSessions: number }> {
    const clients: Array<{ c: StreamableClient; tool: string }> = new Array(SESSIONS);
    let next = 0;
    await Promise.all(Array.from({ length: IN_FLIGHT }, async () => {
      while (next < SESSIONS) {
        const i = next++;
        const t = target(base, i);
        clients[i] = { c: await StreamableClient.connect(authed(agent, t.token), t.url, 10_000), tool: t.tool };
      }
    }));
    const peakSessions = sessionCount();
    const stats = new LoadStats(MAX_CALLS);
    let calls = 0;
    const endAt = Date.now() + steadyMs;
    const tag = randomBytes(4).toString('hex');
    await Promise.all(Array.from({ length: IN_FLIGHT }, async () => {
      while (Date.now() < endAt && calls < MAX_CALLS) {
        const i = calls++ % SESSIONS;
        const { c, tool } = clients[i]!;
        // The text names the session and the call: an answer crossed between sessions cannot match.
        await echoCall(c, tool, `${tag}-s${i}-c${calls}-${'x'.repeat(calls % 200)}`, stats);
      }
    }));
    let closing = 0;
    await Promise.all(Array.from({ length: IN_FLIGHT }, async () => {
      while (closing < SESSIONS) await clients[closing++]!.c.close();
    }));
    return { stats, calls, peakSessions };
  }

  const sessionCount = (): number => app.sessions.size;

  it('answers every call correctly and returns to the baseline heap after the sessions end', async () => {
    // Round 1 warms every path (JIT, pools, children started); its end state is the baseline.
    const first = await round(Math.min(3_000, STEADY_MS));
    expect(first.stats.errors, first.stats.firstError).toBe(0);
    const baseline = await settledBreakdown();

    const second = await round(STEADY_MS);
    expect(second.stats.firstError).toBeUndefined();
    expect(second.stats).toMatchObject({ errors: 0, wrong: 0 });
    expect(second.stats.okCount).toBe(second.calls);
    expect(second.calls).toBeGreaterThan(2_000);
    expect(second.peakSessions).toBe(SESSIONS);

    const after = await settledBreakdown();
    const mb = (n: number) => Math.round((n / 1048576) * 10) / 10;
    const report = `heap ${mb(baseline.heap)} -> ${mb(after.heap)} MB, external ${mb(baseline.external)} -> ${mb(after.external)} MB, ${second.calls} calls`;
    if (process.env.RELIABILITY_VERBOSE) console.info(report);
    // Measured: the JS heap comes back within 1 MB; external memory (Buffers) grows once by ~3 MB
    // to a plateau that later rounds do not raise. A leak of 4 KB per session, or of ~160 bytes per
    // call over the ~25,000 calls of a 15 s round, exceeds the heap bound.
    expect((after.heap - baseline.heap) / 1048576, report).toBeLessThan(4);
    expect((after.external - baseline.external) / 1048576, report).toBeLessThan(8);
    // No session survives its DELETE.
    expect(sessionCount()).toBe(0);
  }, 150_000);
});

/** The same agent with the team's bearer token on every request of that client. */
function authed(agent: Agent, bearer: string): Agent {
  return new Proxy(agent, {
    get(target, prop, receiver) {
      if (prop !== 'request') return Reflect.get(target, prop, receiver) as unknown;
      return (opts: { headers?: Record<string, string> }) => target.request({ ...opts, headers: { ...opts.headers, authorization: `Bearer ${bearer}` } } as never);
    }
  });
}
