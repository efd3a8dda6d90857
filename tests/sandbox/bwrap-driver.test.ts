import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createSandboxDriver } from '../../src/sandbox/factory';
import { detectCgroups } from '../../src/sandbox/cgroups';
import { findOnPath } from '../../src/sandbox/policy';
import type { SandboxDriver, SandboxSpawnRequest } from '../../src/sandbox/types';
import { lastJson, runPlan } from './run-plan';
import { DEFAULT_LIMITS, FIXTURES, memoryLog, request, sandboxEnv, tempDataDir } from './helpers';

interface Probe {
  env: Record<string, string>;
  cwd: string;
  hostname: string;
  pid: number;
  pids: number[];
  capEff: string | null;
  noNewPrivs: string | null;
  exists: Record<string, boolean>;
  write: Record<string, true | string>;
  read: Record<string, true | string>;
}

const BWRAP = findOnPath('bwrap', '/usr/bin:/bin:/usr/local/bin');
if (!BWRAP) throw new Error('bubblewrap (bwrap) is not installed: these tests need it (apt-get install bubblewrap)');

const data = tempDataDir();
const cgroups = detectCgroups(memoryLog());
let driver: SandboxDriver;

/** Copies a fixture into the team's directory, where the sandboxed child can read it as /home/mcp/<name>. */
function stage(teamId: string, name: string, userId?: string): string {
  const dir = userId ? join(data.dir, 'teams', teamId, 'users', userId) : join(data.dir, 'teams', teamId);
  mkdirSync(dir, { recursive: true });
  copyFileSync(join(FIXTURES, name), join(dir, name));
  return `/home/mcp/${name}`;
}

async function probe(over: Partial<SandboxSpawnRequest>, ask: object = {}): Promise<Probe> {
  const plan = await driver.plan(request({ args: [stage(over.teamId ?? 'team-a', 'probe.mjs', over.userId), JSON.stringify(ask)], ...over }));
  return lastJson<Probe>(await runPlan(plan));
}

beforeAll(() => {
  driver = createSandboxDriver(sandboxEnv(data.dir, { SANDBOX: 'bwrap' }), memoryLog());
  // Another team's secret and a file in the satellite's own data dir, which team-a must not reach.
  mkdirSync(join(data.dir, 'teams', 'team-b'), { recursive: true });
  writeFileSync(join(data.dir, 'teams', 'team-b', 'secret.txt'), 'b-secret');
  writeFileSync(join(data.dir, 'satellite-state.json'), '{}');
});
afterAll(() => data.remove());

describe('bwrap driver: isolation', () => {
  it('is picked for SANDBOX=bwrap', () => {
    expect(driver.name).toBe('bwrap');
  });

  it('hides other teams, the data dir, the repo and /root; exposes node_modules read-only', async () => {
    const repo = resolve('.');
    const teamB = join(data.dir, 'teams', 'team-b');
    const p = await probe({}, {
      exists: [teamB, join(teamB, 'secret.txt'), data.dir, join(repo, 'src'), join(repo, 'package.json'), '/root', '/home/mcp/probe.mjs', join(repo, 'node_modules', 'fastify', 'package.json'), '/etc/shadow'],
      read: ['/home/mcp/../team-b/secret.txt', '/proc/1/environ']
    });
    expect(p.exists).toEqual({
      [teamB]: false,
      [join(teamB, 'secret.txt')]: false,
      [data.dir]: false,
      [join(repo, 'src')]: false,
      [join(repo, 'package.json')]: false,
      '/root': false,
      '/home/mcp/probe.mjs': true,
      [join(repo, 'node_modules', 'fastify', 'package.json')]: true,
      '/etc/shadow': false
    });
    expect(p.read['/home/mcp/../team-b/secret.txt']).toBe('ENOENT');
  });

  it('sees only its own process tree, has no capabilities and no new privileges', async () => {
    const p = await probe({});
    expect(p.pids.length).toBeLessThanOrEqual(3);
    expect(p.pids).toContain(p.pid);
    expect(p.pids).not.toContain(process.pid);
    expect(p.capEff).toBe('0000000000000000');
    expect(p.noNewPrivs).toBe('1');
  });

  it('sees exactly its own env, never the satellite\'s, and no secret appears on any command line', async () => {
    process.env.DEPLOYSTACK_REGISTRATION_TOKEN = 'deploystack_satellite_global_leakcheck';
    try {
      const plan = await driver.plan(request({ args: [stage('team-a', 'probe.mjs'), '{}'], env: { GITHUB_TOKEN: 'ghp-secret-123' } }));
      expect(JSON.stringify([plan.command, ...plan.args])).not.toContain('ghp-secret-123');
      const p = lastJson<Probe>(await runPlan(plan));
      expect(p.env).toMatchObject({ GITHUB_TOKEN: 'ghp-secret-123', HOME: '/home/mcp', TMPDIR: '/tmp' });
      expect(Object.keys(p.env).filter((k) => k !== 'PWD').sort()).toEqual(['GITHUB_TOKEN', 'HOME', 'LANG', 'PATH', 'TMPDIR']);
      expect(Object.keys(p.env).some((k) => k.startsWith('SATELLITE_') || k.startsWith('DEPLOYSTACK_'))).toBe(false);
    } finally {
      delete process.env.DEPLOYSTACK_REGISTRATION_TOKEN;
    }
  });

  it('writes in its own directory and nowhere else; /tmp is private', async () => {
    const p = await probe({}, { write: ['/home/mcp/note.txt', '/tmp/scratch', '/usr/evil', '/etc/evil', '/evil', join(data.dir, 'teams', 'team-b', 'x')] });
    expect(p.cwd).toBe('/home/mcp');
    expect(p.write['/home/mcp/note.txt']).toBe(true);
    expect(p.write['/tmp/scratch']).toBe(true);
    for (const path of ['/usr/evil', '/etc/evil', '/evil', join(data.dir, 'teams', 'team-b', 'x')]) expect(p.write[path], path).not.toBe(true);
    expect(readFileSync(join(data.dir, 'teams', 'team-a', 'note.txt'), 'utf8')).toBe('x');
    expect(existsSync('/usr/evil') || existsSync('/etc/evil') || existsSync('/evil')).toBe(false);
  });

  it('has a per-team hostname and per-user directories', async () => {
    const b = await probe({ teamId: 'team-b', teamSlug: 'beta' }, { exists: ['/home/mcp/secret.txt'] });
    expect(b.hostname).toBe('mcp-beta');
    expect(b.exists['/home/mcp/secret.txt']).toBe(true);
    const planU = await driver.plan(request({ userId: 'u7', args: ['-e', 'require("fs").writeFileSync("mine", "1"); console.log(require("os").hostname())'] }));
    const r = await runPlan(planU);
    expect(r.stdout.trim()).toBe('mcp-alpha');
    expect(readFileSync(join(data.dir, 'teams', 'team-a', 'users', 'u7', 'mine'), 'utf8')).toBe('1');
    // Team-wide servers of the same team do not see the users' directories; users do not see the team's files.
    const teamWide = await probe({}, { exists: ['/home/mcp/users/u7/mine', '/home/mcp/users/u7'] });
    expect(teamWide.exists).toEqual({ '/home/mcp/users/u7/mine': false, '/home/mcp/users/u7': false });
    const user = await probe({ userId: 'u7' }, { exists: ['/home/mcp/mine', '/home/mcp/note.txt', '/home/mcp/probe.mjs'] });
    expect(user.exists).toEqual({ '/home/mcp/mine': true, '/home/mcp/note.txt': false, '/home/mcp/probe.mjs': true });
  });
});

describe('bwrap driver: limits', () => {
  it('kills a memory hog (cgroup OOM where available, else RLIMIT_AS)', async () => {
    const limits = { ...DEFAULT_LIMITS, memoryMb: 64, addressSpaceMb: 1024 };
    const plan = await driver.plan(request({ args: [stage('team-a', 'memory-hog.mjs'), '1024'], limits }));
    expect(plan.memoryEnforcement).toBe(cgroups?.memory ? 'cgroup' : 'rlimit_as');
    const r = await runPlan(plan, 20_000);
    expect(r.stdout).not.toContain('survived');
    const reached = Math.max(0, ...r.stdout.split('\n').filter(Boolean).map((l) => Number(l.split(' ')[1])));
    expect(reached).toBeLessThan(plan.memoryEnforcement === 'cgroup' ? 64 : 1024);
    expect(r.code === 0 && r.signal === null).toBe(false);
  });

  it('stops a fork bomb at the process limit', async () => {
    const uid = process.getuid?.() ?? 0;
    if (!cgroups?.pids && uid === 0) throw new Error('no pids cgroup and running as root: RLIMIT_NPROC is not enforced for root, so nothing can stop a fork bomb here');
    // Without a cgroup, RLIMIT_NPROC is set inside the user namespace, where (kernel >= 5.14) it counts the sandbox's tasks only.
    const limits = { ...DEFAULT_LIMITS, maxProcesses: 24 };
    const plan = await driver.plan(request({ args: [stage('team-a', 'fork-bomb.mjs'), '200'], limits }));
    const r = await runPlan(plan, 20_000);
    const { started, failed } = lastJson<{ started: number; failed: number }>(r);
    expect(failed).toBeGreaterThan(0);
    expect(started).toBeLessThan(24);
  });

  it('kills a CPU burner at RLIMIT_CPU', async () => {
    const plan = await driver.plan(request({ args: [stage('team-a', 'cpu-burner.mjs'), '15'], limits: { ...DEFAULT_LIMITS, cpuSeconds: 1 } }));
    const r = await runPlan(plan, 20_000);
    expect(r.stdout).not.toContain('survived');
    expect(r.code === 0 && r.signal === null).toBe(false);
  });
});

describe('bwrap driver: rlimit fallback (no cgroup)', () => {
  it('applies rlimits inside the namespaces and stops a memory hog by RLIMIT_AS', async () => {
    const fallback = createSandboxDriver(sandboxEnv(data.dir, { SANDBOX: 'bwrap' }), memoryLog(), { cgroups: false });
    const plan = await fallback.plan(request({ args: [stage('team-a', 'memory-hog.mjs'), '2048'], limits: { ...DEFAULT_LIMITS, addressSpaceMb: 1024 } }));
    expect(plan.memoryEnforcement).toBe('rlimit_as');
    expect(plan.command).toBe(BWRAP);
    const afterSep = plan.args.slice(plan.args.indexOf('--') + 1);
    expect(afterSep[0]).toMatch(/prlimit$/);
    expect(afterSep).toContain(`--as=${1024 * 1024 * 1024}:${1024 * 1024 * 1024}`);
    expect(afterSep).toContain('--nproc=50:50');
    const r = await runPlan(plan, 20_000);
    expect(r.stdout).not.toContain('survived');
    expect(r.code).not.toBe(0);
  });
});
