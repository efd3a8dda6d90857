import { afterAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createSandboxDriver } from '../../src/sandbox/factory';
import { SandboxError } from '../../src/sandbox/types';
import { lastJson, runPlan } from './run-plan';
import { FIXTURES, memoryLog, request, sandboxEnv, tempDataDir } from './helpers';

interface Probe {
  env: Record<string, string>;
  cwd: string;
  noNewPrivs: string | null;
  write: Record<string, true | string>;
}

const data = tempDataDir();
afterAll(() => data.remove());

describe('none driver', () => {
  const driver = createSandboxDriver(sandboxEnv(data.dir, { SANDBOX: 'none' }), memoryLog());

  it('refuses network "none", which it cannot enforce', async () => {
    await expect(driver.plan(request({ network: 'none' }))).rejects.toThrow(/network "none", which SANDBOX=none cannot provide/);
  });

  it('is picked for SANDBOX=none', () => {
    expect(driver.name).toBe('none');
  });

  it('clears the environment: only the server env plus PATH/HOME/TMPDIR reach the child', async () => {
    // Secrets of the satellite itself must not leak into children.
    process.env.DEPLOYSTACK_REGISTRATION_TOKEN = 'deploystack_satellite_global_leakcheck';
    process.env.SATELLITE_SECRET_PROBE = 'leak';
    try {
      const plan = await driver.plan(request({ args: [join(FIXTURES, 'probe.mjs'), '{}'], env: { API_KEY: 'k-123', HOME: '/root' } }));
      expect(plan.args.join(' ')).not.toContain('k-123');
      const probe = lastJson<Probe>(await runPlan(plan));
      const teamDir = join(data.dir, 'teams', 'team-a');
      expect(probe.env.API_KEY).toBe('k-123');
      expect(probe.env.HOME).toBe(teamDir);
      expect(probe.env.TMPDIR).toBe(join(teamDir, '.tmp'));
      expect(probe.cwd).toBe(teamDir);
      expect(probe.noNewPrivs).toBe('1');
      // PWD is exported by the /bin/sh that joins the cgroup; harmless, and the cwd anyway.
      const keys = Object.keys(probe.env).filter((k) => k !== 'PWD').sort();
      expect(keys).toEqual(['API_KEY', 'HOME', 'LANG', 'PATH', 'TMPDIR']);
      expect(plan.writableDir).toBe(teamDir);
    } finally {
      delete process.env.DEPLOYSTACK_REGISTRATION_TOKEN;
      delete process.env.SATELLITE_SECRET_PROBE;
    }
  });

  it('gives per-user instances their own directory and honours a relative cwd', async () => {
    const plan = await driver.plan(request({ userId: 'u1', cwd: 'work/sub', args: [join(FIXTURES, 'probe.mjs'), JSON.stringify({ write: ['out.txt'] })] }));
    const probe = lastJson<Probe>(await runPlan(plan));
    const dir = join(data.dir, 'teams', 'team-a', 'users', 'u1', 'work', 'sub');
    expect(probe.cwd).toBe(dir);
    expect(probe.write['out.txt']).toBe(true);
    expect(readFileSync(join(dir, 'out.txt'), 'utf8')).toBe('x');
  });

  it.each([
    [{ command: 'bash' }, /Command bash is not allowed: SATELLITE_ALLOWED_COMMANDS permits node, npx, python3, uvx/],
    [{ command: '/bin/sh' }, /absolute paths must be listed/],
    [{ command: './node' }, /use a bare command name/],
    [{ env: { LD_PRELOAD: '/tmp/x.so' } }, /LD_PRELOAD is not allowed/],
    [{ env: { NODE_OPTIONS: '--require /tmp/x' } }, /NODE_OPTIONS is not allowed/],
    [{ env: { PYTHONPATH: '/tmp' } }, /PYTHONPATH is not allowed/],
    [{ env: { BASH_ENV: '/tmp/x' } }, /BASH_ENV is not allowed/],
    [{ env: { 'A=B': 'x' } }, /name "A=B" is not allowed/],
    [{ teamId: '../other' }, /Team id "..\/other" cannot name a directory/],
    [{ userId: '..' }, /User id ".." cannot name a directory/],
    [{ cwd: '../team-b' }, /leaves the team directory/],
    [{ cwd: '/etc' }, /must be relative/],
    [{ cwd: 'users/u1' }, /inside the per-user directories/],
    [{ args: ['a\0b'] }, /NUL byte/]
  ])('refuses %j with a clear SandboxError', async (over, message) => {
    const attempt = driver.plan(request(over));
    await expect(attempt).rejects.toThrow(SandboxError);
    await expect(driver.plan(request(over))).rejects.toThrow(message);
  });

  it('passes arguments with spaces, URLs and shell metacharacters verbatim (argv, no shell)', async () => {
    const odd = ['hello world', 'https://x.test/a?b=1&c=2', '$(touch /tmp/pwned)', '~/+%,;|`'];
    const plan = await driver.plan(request({ args: ['-e', 'process.stdout.write(JSON.stringify(process.argv.slice(1)))', ...odd] }));
    const r = await runPlan(plan);
    expect(JSON.parse(r.stdout)).toEqual(odd);
  });
});
