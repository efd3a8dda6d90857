import { afterAll, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { detectCgroups } from '../../src/sandbox/cgroups';
import { DEFAULT_LIMITS, memoryLog, tempDataDir } from './helpers';

// Detection against a directory laid out like a cgroup v2 tree (regular files stand in for the
// kernel's): checks the path arithmetic (mount root vs. own group) and the files written.
const fake = tempDataDir();
afterAll(() => fake.remove());

function v2Tree(controllers: string): string {
  const mount = join(fake.dir, `cg-${Math.random().toString(36).slice(2)}`);
  const own = join(mount, 'system.slice', 'satellite.service');
  mkdirSync(own, { recursive: true });
  writeFileSync(join(own, 'cgroup.controllers'), `${controllers}\n`);
  writeFileSync(join(own, 'cgroup.subtree_control'), `${controllers}\n`);
  return mount;
}

const mountInfo = (mount: string, root = '/') =>
  [`25 1 0:22 / /sys rw - sysfs sysfs rw`, `30 25 0:26 ${root} ${mount} rw,nosuid - cgroup2 cgroup2 rw,nsdelegate`].join('\n');

describe('cgroup detection', () => {
  it('uses the satellite\'s own v2 group and writes memory.max, memory.swap.max and pids.max', async () => {
    const mount = v2Tree('cpu memory pids');
    const cg = detectCgroups(memoryLog(), { mountInfo: mountInfo(mount), selfCgroup: '0::/system.slice/satellite.service\n' });
    expect(cg?.description).toBe('v2(memory,pids)');
    const group = await cg!.create('alpha-probe', { ...DEFAULT_LIMITS, memoryMb: 100, maxProcesses: 50 });
    const prefix = group!.joinPrefix('/bin/sh');
    const procs = prefix[prefix.length - 1]!;
    const dir = procs.replace(/\/cgroup\.procs$/, '');
    expect(dir.startsWith(join(mount, 'system.slice', 'satellite.service', `satellite-${process.pid}-alpha-probe-`))).toBe(true);
    expect(readFileSync(join(dir, 'memory.max'), 'utf8')).toBe(String(100 * 1024 * 1024));
    expect(readFileSync(join(dir, 'memory.swap.max'), 'utf8')).toBe('0');
    expect(readFileSync(join(dir, 'pids.max'), 'utf8')).toBe('50');
  });

  it('translates the group path when the mount root is not / (cgroup namespaces)', () => {
    const mount = v2Tree('memory pids');
    const cg = detectCgroups(memoryLog(), { mountInfo: mountInfo(mount, '/system.slice'), selfCgroup: '0::/system.slice/system.slice/satellite.service\n' });
    expect(cg?.description).toBe('v2(memory,pids)');
  });

  it('uses only the controllers the group offers', () => {
    const mount = v2Tree('cpu pids');
    const cg = detectCgroups(memoryLog(), { mountInfo: mountInfo(mount), selfCgroup: '0::/system.slice/satellite.service\n' });
    expect(cg).toMatchObject({ memory: false, pids: true, description: 'v2(pids)' });
  });

  it('sweeps empty groups of dead owners older than a minute, and nothing else', () => {
    const mount = v2Tree('memory pids');
    const own = join(mount, 'system.slice', 'satellite.service');
    const old = new Date(Date.now() - 10 * 60_000);
    const make = (name: string, age?: Date, file?: string) => {
      mkdirSync(join(own, name));
      if (file) writeFileSync(join(own, name, file), '');
      if (age) utimesSync(join(own, name), age, age);
    };
    make('satellite-999999999-gone-aaaa', old); // dead owner, old, empty: removed
    make('satellite-999999999-fresh-bbbb'); // dead owner but just created: kept
    make(`satellite-${process.pid}-mine-cccc`, old); // live owner: kept
    make('satellite-999999999-busy-dddd', old, 'cgroup.procs'); // not empty: rmdir refuses
    make('other-service', old); // not ours
    const log = memoryLog();
    detectCgroups(log, { mountInfo: mountInfo(mount), selfCgroup: '0::/system.slice/satellite.service\n' });
    expect(existsSync(join(own, 'satellite-999999999-gone-aaaa'))).toBe(false);
    for (const kept of ['satellite-999999999-fresh-bbbb', `satellite-${process.pid}-mine-cccc`, 'satellite-999999999-busy-dddd', 'other-service']) {
      expect(existsSync(join(own, kept)), kept).toBe(true);
    }
    expect(log.lines.some((l) => l.msg === 'removed stale sandbox cgroups')).toBe(true);
  });

  it('returns undefined (rlimit fallback) when no hierarchy is usable', () => {
    expect(detectCgroups(memoryLog(), { mountInfo: mountInfo('/nonexistent/cgroup'), selfCgroup: '0::/x\n' })).toBeUndefined();
    expect(detectCgroups(memoryLog(), { mountInfo: '', selfCgroup: '' })).toBeUndefined();
    expect(existsSync('/nonexistent')).toBe(false);
  });
});
