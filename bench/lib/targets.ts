// The servers under test: how each is started, on which loopback port, and which MCP endpoints it
// offers. Every one fronts the same bench/echo-server.mjs, except (d) whose echo tool is in-process.
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { spawnSync } from 'node:child_process';
import type { Agent } from 'undici';
import { freePort, startProcess, stopProcess, waitUntil, type Spawned } from './proc';

export const ROOT = resolve(__dirname, '..', '..');
export const ECHO_SERVER = join(ROOT, 'bench', 'echo-server.mjs');
const PEERS = join(ROOT, '.cache', 'bench', 'node_modules');

export interface Endpoint {
  row: string;
  transport: 'streamable' | 'sse';
  url: string;
  /** Whether opening 1,000 idle sessions here is meaningful (not one process or socket per session). */
  idleSessions: boolean;
}

export interface ServerUnderTest {
  name: string;
  proc: Spawned;
  endpoints: Endpoint[];
  notes: string[];
  stop(): Promise<unknown>;
}

/** Any HTTP answer at all means the port is served. */
async function answers(agent: Agent, url: string): Promise<boolean> {
  const u = new URL(url);
  const res = await agent.request({ origin: u.origin, path: u.pathname, method: 'GET', headersTimeout: 1000, bodyTimeout: 1000 });
  await res.body.dump();
  return res.statusCode < 500;
}

async function launch(agent: Agent, name: string, args: string[], env: NodeJS.ProcessEnv, probeUrl: string, cleanup?: () => void): Promise<Spawned> {
  const proc = startProcess(process.execPath, args, env, ROOT);
  try {
    await waitUntil(name, () => answers(agent, probeUrl), proc, 30_000);
  } catch (err) {
    await stopProcess(proc);
    cleanup?.();
    throw err;
  }
  return proc;
}

/** Our environment without what would change the children's behaviour, plus `extra`. */
function baseEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env.DEPLOYSTACK_BACKEND_URL;
  delete env.NODE_OPTIONS;
  return { ...env, ...extra };
}

function newestMtime(dir: string): number {
  let newest = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    newest = Math.max(newest, e.isDirectory() ? newestMtime(p) : statSync(p).mtimeMs);
  }
  return newest;
}

/** How the satellite is run: node_args before its entry file. */
export interface SatelliteEntry {
  label: string;
  args: string[];
}

const TSX_ENTRY: SatelliteEntry = { label: 'node --import tsx src/index.ts', args: ['--import', 'tsx', 'src/index.ts'] };
// Outside .cache/bench on purpose: packages resolve from the root node_modules, not the peers' tree.
const PRIVATE_DIST = join(ROOT, '.cache', 'satellite-dist');

/** Builds src/ with the project's webpack config into a private directory (dist/ is left alone). */
function buildPrivateDist(log: (s: string) => void): SatelliteEntry | undefined {
  log(`building the satellite into ${relative(ROOT, PRIVATE_DIST)} (webpack)`);
  const r = spawnSync(process.execPath, [join(ROOT, 'node_modules', '.bin', 'webpack'), '--mode', 'production', '--output-path', PRIVATE_DIST],
    { cwd: ROOT, encoding: 'utf8', timeout: 300_000 });
  if (r.status !== 0) {
    log(`build failed, running src/ through tsx instead: ${(r.stdout + r.stderr).slice(-500)}`);
    return undefined;
  }
  return { label: 'node .cache/satellite-dist/index.js (webpack build of src/)', args: [join(PRIVATE_DIST, 'index.js')] };
}

/**
 * auto: dist/ when it is built and newer than every file in src/, else a fresh private build,
 * else src/ through tsx. build: always the private build.
 */
export function satelliteEntry(choice: 'auto' | 'dist' | 'tsx' | 'build', log: (s: string) => void): SatelliteEntry {
  const dist: SatelliteEntry = { label: 'node dist/index.js', args: ['dist/index.js'] };
  if (choice === 'tsx') return TSX_ENTRY;
  if (choice === 'dist') return dist;
  const distFile = join(ROOT, 'dist', 'index.js');
  if (choice === 'auto' && existsSync(distFile) && statSync(distFile).mtimeMs > newestMtime(join(ROOT, 'src'))) return dist;
  return buildPrivateDist(log) ?? TSX_ENTRY;
}

export interface SatelliteOptions {
  entry: SatelliteEntry;
  sandbox: 'none' | 'bwrap';
  idleTimeoutSeconds?: number;
  cpuProfileDir?: string;
  label?: string;
}

export interface SatelliteUnderTest extends ServerUnderTest {
  /** Adds an echo server under `slug` to the config file and reloads it (SIGHUP). */
  addServer(slug: string): void;
}

export async function startSatellite(agent: Agent, o: SatelliteOptions): Promise<SatelliteUnderTest> {
  const dir = mkdtempSync(join(tmpdir(), 'satellite-bench-'));
  const port = await freePort();
  // Servers run in the team's directory (their cwd, and the only host path a sandbox shows them),
  // so the echo server is copied there and named relatively.
  const teamDir = join(dir, 'data', 'teams', 'team-bench');
  mkdirSync(teamDir, { recursive: true, mode: 0o700 });
  copyFileSync(ECHO_SERVER, join(teamDir, 'echo-server.mjs'));
  const server = (slug: string): Record<string, unknown> => ({
    installation_id: `inst-${slug}`, team_id: 'team-bench', team_slug: 'bench', server_slug: slug,
    installation_name: `${slug}-bench`, transport_type: 'stdio', command: 'node', args: ['echo-server.mjs'], env: {}, enabled: true
  });
  const servers: Record<string, unknown> = { 'echo-bench': server('echo') };
  const configFile = join(dir, 'satellite.json');
  const writeConfig = (): void => writeFileSync(configFile, JSON.stringify({
    anonymous: { team_id: 'team-bench', user_id: 'bench' },
    teams: { 'team-bench': { slug: 'bench', name: 'Benchmark' } },
    tokens: {},
    mcp_servers: servers
  }, null, 2));
  writeConfig();
  const env = baseEnv({
    PORT: String(port), HOST: '127.0.0.1', NODE_ENV: 'production', LOG_LEVEL: process.env.BENCH_SATELLITE_LOG_LEVEL ?? 'warn',
    SATELLITE_CONFIG: configFile, SATELLITE_DATA_DIR: join(dir, 'data'), AUDIT_LOG_FILE: join(dir, 'audit.log'),
    DEPLOYSTACK_CREDENTIALS_FILE: join(dir, 'backend.key.json'), SANDBOX: o.sandbox,
    MCP_MAX_SESSIONS: '100000', MCP_MAX_SESSIONS_PER_TEAM: '100000',
    // The per-team limits stay on (their accounting is part of the path) but out of reach.
    TEAM_RATE_LIMIT_RPS: '1000000', TEAM_RATE_LIMIT_BURST: '1000000', TEAM_MAX_CONCURRENT_REQUESTS: '100000',
    MCP_PROCESS_IDLE_TIMEOUT_SECONDS: String(o.idleTimeoutSeconds ?? 0),
    MCP_PROCESS_SPAWN_GRACE_PERIOD_SECONDS: o.idleTimeoutSeconds ? '0' : '60'
  });
  // BENCH_SATELLITE_NODE_ARGS: extra node flags for the satellite alone (e.g. GC tuning experiments).
  const extra = (process.env.BENCH_SATELLITE_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const nodeArgs = [...extra, ...(o.cpuProfileDir ? ['--cpu-prof', `--cpu-prof-dir=${o.cpuProfileDir}`] : [])];
  const args = [...nodeArgs, ...o.entry.args];
  const base = `http://127.0.0.1:${port}`;
  const removeDir = (): void => rmSync(dir, { recursive: true, force: true });
  const proc = await launch(agent, 'satellite', args, env, `${base}/`, removeDir);
  const label = o.label ?? `satellite (${o.sandbox === 'none' ? 'no sandbox' : o.sandbox})`;
  return {
    name: label, proc,
    endpoints: [
      { row: `${label} /servers/echo/mcp`, transport: 'streamable', url: `${base}/servers/echo/mcp`, idleSessions: true },
      { row: `${label} /mcp (team)`, transport: 'streamable', url: `${base}/mcp`, idleSessions: false },
      { row: `${label} /sse`, transport: 'sse', url: `${base}/sse`, idleSessions: false }
    ],
    notes: [`entry: ${o.entry.label}`, `SANDBOX=${o.sandbox}`],
    stop: async () => {
      const r = await stopProcess(proc, 15_000);
      removeDir();
      return r;
    },
    addServer: (slug) => {
      servers[`${slug}-bench`] = server(slug);
      writeConfig();
      proc.child.kill('SIGHUP');
    }
  };
}

export async function startSdkServer(agent: Agent): Promise<ServerUnderTest> {
  const port = await freePort();
  const proc = await launch(agent, 'sdk server', ['bench/sdk-server.mjs', String(port)], baseEnv(), `http://127.0.0.1:${port}/mcp`);
  return {
    name: 'SDK StreamableHTTPServerTransport', proc,
    endpoints: [{ row: 'SDK server (in-process echo) /mcp', transport: 'streamable', url: `http://127.0.0.1:${port}/mcp`, idleSessions: true }],
    notes: ['@modelcontextprotocol/sdk McpServer + StreamableHTTPServerTransport, stateful, echo tool in-process'],
    stop: () => stopProcess(proc)
  };
}

export function peersInstalled(): boolean {
  return existsSync(join(PEERS, 'supergateway', 'dist', 'index.js')) && existsSync(join(PEERS, 'mcp-proxy', 'dist', 'bin'));
}

const echoCommand = `${process.execPath} ${ECHO_SERVER}`;
const loopbackOnly = `--require ${join(ROOT, 'bench', 'loopback-only.cjs')}`;

export async function startSupergateway(agent: Agent, mode: 'sse' | 'streamable'): Promise<ServerUnderTest> {
  const port = await freePort();
  const modeArgs = mode === 'sse' ? [] : ['--outputTransport', 'streamableHttp', '--stateful'];
  const proc = await launch(agent, `supergateway ${mode}`, [
    join(PEERS, 'supergateway', 'dist', 'index.js'), '--stdio', echoCommand, '--port', String(port), '--logLevel', 'none',
    '--healthEndpoint', '/healthz', ...modeArgs
  ], baseEnv({ NODE_OPTIONS: loopbackOnly }), `http://127.0.0.1:${port}/healthz`);
  const base = `http://127.0.0.1:${port}`;
  return mode === 'sse'
    ? {
        name: 'supergateway (stdio→SSE)', proc,
        endpoints: [{ row: 'supergateway /sse', transport: 'sse', url: `${base}/sse`, idleSessions: false }],
        notes: ['no listen-address flag: bound to 127.0.0.1 by bench/loopback-only.cjs'], stop: () => stopProcess(proc)
      }
    : {
        name: 'supergateway (stdio→Streamable HTTP, stateful)', proc,
        endpoints: [{ row: 'supergateway --stateful /mcp', transport: 'streamable', url: `${base}/mcp`, idleSessions: false }],
        notes: ['spawns one stdio server per session, so 1,000 idle sessions would be 1,000 processes: not measured'],
        stop: () => stopProcess(proc)
      };
}

export async function startMcpProxy(agent: Agent): Promise<ServerUnderTest> {
  const port = await freePort();
  const bin = join(PEERS, 'mcp-proxy', 'dist', 'bin', 'mcp-proxy.mjs');
  const proc = await launch(agent, 'mcp-proxy', [bin, '--host', '127.0.0.1', '--port', String(port), '--', process.execPath, ECHO_SERVER],
    baseEnv(), `http://127.0.0.1:${port}/ping`);
  const base = `http://127.0.0.1:${port}`;
  return {
    name: 'mcp-proxy', proc,
    endpoints: [
      { row: 'mcp-proxy /mcp', transport: 'streamable', url: `${base}/mcp`, idleSessions: true },
      { row: 'mcp-proxy /sse', transport: 'sse', url: `${base}/sse`, idleSessions: false }
    ],
    notes: ['defaults (event store on)'], stop: () => stopProcess(proc)
  };
}

/** A temp dir for CPU profiles, when asked for. */
export function profileDir(): string {
  return mkdtempSync(join(tmpdir(), 'satellite-prof-'));
}
