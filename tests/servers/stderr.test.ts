import { describe, expect, it } from 'vitest';
import { MINI, nextEvent, server, waitFor, type Harness, registryPerTest } from './helpers';

const SECRET = 'zz-very-secret-token-zz';

describe('stderr of a server', () => {
  const registries = registryPerTest();
  let h: Harness;
  const up = () => h.registry.get('team-a', 'loud')!;

  it('keeps only the last lines', async () => {
    h = await registries.start([server('loud', [MINI], { env: { SECRET_TOKEN: SECRET } })], { stderr: { maxLines: 10, maxLineLength: 1024, linesPerSecond: 1000 } });
    await up().request('tools/call', { name: 'stderr', arguments: { lines: 50 } });
    await waitFor(() => up().logs!().at(-1)?.line.startsWith('line 49') ?? false, 3000, 'last line');
    const lines = up().logs!().map((l) => l.line);
    expect(lines).toHaveLength(10);
    expect(lines[0]).toBe('line 40 secret=[REDACTED]');
  });

  it('cuts long lines without leaving part of a secret that straddles the cut', async () => {
    h = await registries.start([server('loud', [MINI], { env: { SECRET_TOKEN: SECRET } })], { stderr: { maxLines: 10, maxLineLength: 40, linesPerSecond: 1000 } });
    // The secret starts at column 36: a cut at 40 without care would leave "zz-v".
    await up().request('tools/call', { name: 'stderr', arguments: { lines: 1, pad: 22 } });
    await waitFor(() => up().logs!().length === 1, 3000, 'one line');
    const [line] = up().logs!().map((l) => l.line);
    expect(line).toBe(`${'a'.repeat(22)}line 0 secret=[RED…`);
    expect(line).not.toContain('zz-v');
  });

  it('drops lines above the rate and reports how many', async () => {
    h = await registries.start([server('loud', [MINI], { env: { SECRET_TOKEN: SECRET } })], { stderr: { maxLines: 100, maxLineLength: 1024, linesPerSecond: 5 } });
    const limited = nextEvent(h.registry, 'log_rate_limited', () => true, 5000);
    await up().request('tools/call', { name: 'stderr', arguments: { lines: 30 } });
    // The dropped count is reported when the next window opens (or the process ends).
    await new Promise((r) => setTimeout(r, 1100));
    await up().request('tools/call', { name: 'stderr', arguments: { lines: 1 } });
    expect(await limited).toMatchObject({ serverSlug: 'loud', dropped_count: 25, rate_limit: 5, time_window_seconds: 1 });
    expect(up().logs!().slice(0, 5).map((l) => l.line)).toEqual([0, 1, 2, 3, 4].map((i) => `line ${i} secret=[REDACTED]`));
  });
});
