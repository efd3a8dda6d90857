import { afterAll, describe, expect, it } from 'vitest';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError } from '../../src/config/config-error';
import { detectCgroups } from '../../src/sandbox/cgroups';
import { createSandboxDriver } from '../../src/sandbox/factory';
import { findOnPath } from '../../src/sandbox/policy';
import { SANDBOX_HOME } from '../../src/sandbox/jail';
import { lastJson, runPlan } from './run-plan';
import { DEFAULT_LIMITS, FIXTURES, memoryLog, request, sandboxEnv, tempDataDir } from './helpers';

const data = tempDataDir();
afterAll(() => data.remove());

// A stand-in nsjail binary on a private PATH: nsjail is not installed here, its argv is checked instead.
const fakeBin = join(data.dir, 'bin');
mkdirSync(fakeBin);
writeFileSync(join(fakeBin, 'nsjail'), '#!/bin/sh\nexit 99\n');
chmodSync(join(fakeBin, 'nsjail'), 0o755);
const withNsjail = `${fakeBin}:${process.env.PATH ?? ''}`;
const withoutNsjail = process.env.PATH ?? '';

describe('createSandboxDriver', () => {
  it.each([
    ['auto', 'production', withNsjail, 'nsjail'],
    ['auto', 'development', withNsjail, 'nsjail'],
    ['auto', 'production', withoutNsjail, 'bwrap'],
    ['auto', 'development', withoutNsjail, 'none'],
    ['auto', 'test', withoutNsjail, 'none'],
    ['none', 'production', withNsjail, 'none'],
    ['bwrap', 'development', withNsjail, 'bwrap']
  ])('SANDBOX=%s NODE_ENV=%s picks the expected driver', (sandbox, nodeEnv, hostPath, expected) => {
    const driver = createSandboxDriver(sandboxEnv(data.dir, { SANDBOX: sandbox, NODE_ENV: nodeEnv }), memoryLog(), { hostPath });
    expect(driver.name).toBe(expected);
  });

  it('fails at startup when the requested binary is missing', () => {
    const make = () => createSandboxDriver(sandboxEnv(data.dir, { SANDBOX: 'nsjail' }), memoryLog(), { hostPath: withoutNsjail });
    expect(make).toThrow(ConfigError);
    expect(make).toThrow(/Sandbox binary "nsjail" not found on PATH: SANDBOX=nsjail was requested/);
  });

  it('logs the driver and what enforces limits', () => {
    const log = memoryLog();
    createSandboxDriver(sandboxEnv(data.dir, { SANDBOX: 'none' }), log, { cgroups: false });
    expect(log.lines.find((l) => l.level === 'info')?.msg).toBe('sandbox driver: none');
    expect(log.lines.some((l) => l.level === 'warn' && /RLIMIT_AS/.test(l.msg ?? ''))).toBe(true);
  });

  it('resolves bare names only in PATH directories the jail can see (a shim under a hidden dir is skipped)', async () => {
    // fakeBin lives in the data dir, which no jail mounts: its `node` would exist on the host but not inside.
    writeFileSync(join(fakeBin, 'node'), '#!/bin/sh\nexit 98\n');
    chmodSync(join(fakeBin, 'node'), 0o755);
    const hostPath = `${fakeBin}:${process.env.PATH ?? ''}`;
    const jailed = createSandboxDriver(sandboxEnv(data.dir, { SANDBOX: 'bwrap' }), memoryLog(), { hostPath });
    const plain = createSandboxDriver(sandboxEnv(data.dir, { SANDBOX: 'none' }), memoryLog(), { hostPath });
    const jailedPlan = await jailed.plan(request({ args: ['-v'] }));
    expect(jailedPlan.args).toContain(findOnPath('node', process.env.PATH));
    expect(jailedPlan.args).not.toContain(join(fakeBin, 'node'));
    const plainPlan = await plain.plan(request({ args: ['-v'] }));
    expect(plainPlan.args).toContain(join(fakeBin, 'node'));
    // Plans that are never spawned must still be cleaned up (they may hold a cgroup).
    await jailedPlan.cleanup?.();
    await plainPlan.cleanup?.();
  });

  it('honours SATELLITE_ALLOWED_COMMANDS, including listed absolute paths', async () => {
    const driver = createSandboxDriver(sandboxEnv(data.dir, { SANDBOX: 'none', SATELLITE_ALLOWED_COMMANDS: `python3,${process.execPath}` }), memoryLog());
    await expect(driver.plan(request({ command: 'node' }))).rejects.toThrow(/Command node is not allowed: SATELLITE_ALLOWED_COMMANDS permits python3,/);
    const r = await runPlan(await driver.plan(request({ command: process.execPath, args: ['-e', 'console.log("abs ok")'] })));
    expect(r.stdout.trim()).toBe('abs ok');
  });
});

describe('limits without a cgroup (rlimit fallback)', () => {
  const driver = createSandboxDriver(sandboxEnv(data.dir, { SANDBOX: 'none' }), memoryLog(), { cgroups: false });

  it('reports rlimit_as and stops a memory hog by RLIMIT_AS', async () => {
    const plan = await driver.plan(request({ args: [join(FIXTURES, 'memory-hog.mjs'), '2048'], limits: { ...DEFAULT_LIMITS, addressSpaceMb: 1024 } }));
    expect(plan.memoryEnforcement).toBe('rlimit_as');
    expect(plan.args).toContain(`--as=${1024 * 1024 * 1024}:${1024 * 1024 * 1024}`);
    expect(plan.args).toContain('--nproc=50:50');
    const r = await runPlan(plan, 20_000);
    expect(r.stdout).not.toContain('survived');
    expect(r.code === 0 && r.signal === null).toBe(false);
  });
});

describe('cgroups', () => {
  const log = memoryLog();
  const cgroups = detectCgroups(log);

  it('removes the group after exit and kills stragglers left in it', async () => {
    const driver = createSandboxDriver(sandboxEnv(data.dir, { SANDBOX: 'none' }), memoryLog());
    // The server leaves a detached grandchild behind; without a cgroup nothing could find it.
    const script = 'const c = require("child_process").spawn("/bin/sleep", ["20"], { detached: true, stdio: "ignore" }); c.unref(); console.log(JSON.stringify({ pid: c.pid }))';
    const plan = await driver.plan(request({ args: ['-e', script] }));
    expect(plan.memoryEnforcement).toBe(cgroups?.memory ? 'cgroup' : 'rlimit_as');
    const groupFiles = plan.args.filter((a) => a.endsWith('/cgroup.procs'));
    const { pid } = lastJson<{ pid: number }>(await runPlan(plan));
    let alive = true;
    try {
      process.kill(pid, 0);
    } catch {
      alive = false;
    }
    if (cgroups) {
      expect(groupFiles.length).toBeGreaterThan(0);
      for (const f of groupFiles) expect(existsSync(f), f).toBe(false);
      // Killed by cleanup (it may linger as a zombie until init reaps it).
      const state = alive ? /\) (\S)/.exec(readFileSync(`/proc/${pid}/stat`, 'latin1'))?.[1] : 'gone';
      expect(state === 'gone' || state === 'Z').toBe(true);
    } else {
      expect(groupFiles).toEqual([]);
      expect(log.lines.length).toBe(0);
      if (alive) process.kill(pid, 'SIGKILL');
    }
  });
});

describe('nsjail driver (argv only: the binary is not installed here)', () => {
  const driver = createSandboxDriver(sandboxEnv(data.dir, { SANDBOX: 'nsjail' }), memoryLog(), { hostPath: withNsjail });

  it('builds the jail without secrets on the command line', async () => {
    const plan = await driver.plan(request({ args: ['server.js', '--flag=x'], env: { API_TOKEN: 'tok-secret-42' }, cwd: 'app' }));
    const argv = [plan.command, ...plan.args];
    expect(JSON.stringify(argv)).not.toContain('tok-secret-42');
    expect(plan.env).toMatchObject({ API_TOKEN: 'tok-secret-42', HOME: SANDBOX_HOME, TMPDIR: '/tmp' });
    const start = argv.indexOf(join(fakeBin, 'nsjail'));
    expect(start).toBeGreaterThanOrEqual(0);
    const jail = argv.slice(start);
    const pair = (flag: string, at = jail.indexOf(flag)) => jail[at + 1];
    expect(jail).toContain('-Mo');
    expect(pair('--hostname')).toBe('mcp-alpha');
    expect(pair('--cwd')).toBe(`${SANDBOX_HOME}/app`);
    expect(jail).toContain(`${join(data.dir, 'teams', 'team-a')}:${SANDBOX_HOME}`);
    expect(pair('--rlimit_cpu')).toBe('60');
    expect(pair('--rlimit_nofile')).toBe('1024');
    expect(pair('--rlimit_fsize')).toBe('50');
    expect(pair('--rlimit_as')).toBe(plan.memoryEnforcement === 'cgroup' ? 'inf' : '4096');
    expect(jail).toContain('--disable_clone_newnet');
    expect(jail).not.toContain('--disable_no_new_privs');
    expect(jail).not.toContain('--keep_env');
    // Every env key is passed by name only; nsjail takes the value from its own environment.
    const envFlags = jail.flatMap((a, i) => (a === '-E' ? [jail[i + 1]] : []));
    expect(envFlags.sort()).toEqual(Object.keys(plan.env).sort());
    expect(jail.slice(jail.indexOf('--'))).toEqual(['--', findOnPath('node', process.env.PATH), 'server.js', '--flag=x']);
    expect(argv.some((a) => a.endsWith('prlimit'))).toBe(false);
    expect(pair('-T', jail.lastIndexOf('-T'))).toBe(`${SANDBOX_HOME}/users`);
    await plan.cleanup?.();
    const userPlan = await driver.plan(request({ userId: 'u1' }));
    expect(userPlan.args).not.toContain(`${SANDBOX_HOME}/users`);
    await userPlan.cleanup?.();
  });

  it('gives a server with network "none" its own network namespace', async () => {
    const plan = await driver.plan(request({ network: 'none' }));
    expect(plan.args).not.toContain('--disable_clone_newnet');
    await plan.cleanup?.();
  });

  it('refuses a data dir nsjail cannot express (":" in a mount spec) without leaking a cgroup', async () => {
    const colon = join(data.dir, 'odd:dir');
    const odd = createSandboxDriver(sandboxEnv(colon, { SANDBOX: 'nsjail' }), memoryLog(), { hostPath: withNsjail });
    const before = detectCgroups(memoryLog())?.ownGroups() ?? [];
    await expect(odd.plan(request())).rejects.toThrow(/contains ':' and cannot be mounted by nsjail/);
    expect(detectCgroups(memoryLog())?.ownGroups() ?? []).toEqual(before);
  });
});
