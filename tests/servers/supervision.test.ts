import { describe, expect, it } from 'vitest';
import { JsonRpcError } from '../../src/mcp/jsonrpc';
import { MINI, isAlive, nextEvent, server, textOf, waitFor, type Harness, registryPerTest } from './helpers';

const call = (h: Harness, slug: string, name: string, args: Record<string, unknown> = {}, timeoutMs?: number) =>
  h.registry.get('team-a', slug)!.request('tools/call', { name, arguments: args }, timeoutMs ? { timeoutMs } : {});

describe('supervision of stdio servers', () => {
  const registries = registryPerTest();

  it('restarts a crashing child with backoff and marks it permanently_failed after the 4th crash', async () => {
    const h = await registries.start([server('crashy', [MINI, '--crash-after-init=30'])]);
    const crashes: { crash_count: number; will_restart: boolean; exit_code: number | null }[] = [];
    let restarts = 0;
    h.registry.events.on('crashed', (e) => crashes.push(e));
    h.registry.events.on('restarted', () => restarts++);
    const failed = await nextEvent(h.registry, 'permanently_failed');
    expect(failed).toMatchObject({ teamId: 'team-a', serverSlug: 'crashy', installationId: 'inst-crashy', total_crashes: 4 });
    expect(crashes.map((c) => [c.crash_count, c.will_restart, c.exit_code])).toEqual([[1, true, 3], [2, true, 3], [3, true, 3], [4, false, 3]]);
    expect(restarts).toBe(3);
    const up = h.registry.get('team-a', 'crashy')!;
    expect(up.status).toBe('permanently_failed');
    await expect(up.request('tools/list', undefined)).rejects.toThrow(/crashed 4 times.*restart/);
    // No further restart happens by itself.
    await new Promise((r) => setTimeout(r, 150));
    expect(crashes).toHaveLength(4);
    // An explicit restart brings it back.
    const back = nextEvent(h.registry, 'restarted', (e) => e.restart_reason === 'manual');
    await h.registry.restart('team-a', 'crashy');
    expect((await back).new_pid).toBeGreaterThan(0);
  });

  it('counts death by signal as a crash and fails calls in flight at once', async () => {
    const h = await registries.start([server('victim', [MINI])]);
    const before = h.registry.list()[0]!.pid!;
    const hung = call(h, 'victim', 'hang').catch((e: unknown) => e);
    const crashed = nextEvent(h.registry, 'crashed');
    const restarted = nextEvent(h.registry, 'restarted');
    await new Promise((r) => setTimeout(r, 50));
    process.kill(before, 'SIGKILL');
    const err = await hung;
    expect(err).toBeInstanceOf(JsonRpcError);
    expect(err).toMatchObject({ code: -32000, message: 'Server victim was killed by SIGKILL' });
    expect(await crashed).toMatchObject({ signal: 'SIGKILL', exit_code: null, will_restart: true, crash_count: 1 });
    expect((await restarted).old_pid).toBe(before);
    await waitFor(() => h.registry.get('team-a', 'victim')!.status === 'online', 3000, 'online again');
    const after = textOf(await call(h, 'victim', 'pid')).pid;
    expect(after).not.toBe(before);
    expect(isAlive(before)).toBe(false);
  });

  it('bounds the wait for a restart by the caller\'s timeout and lets the caller cancel it', async () => {
    const h = await registries.start([server('slowback', [MINI])], { crashPolicy: { backoffMs: [60_000], maxCrashes: 3, windowMs: 60_000 } });
    const crashed = nextEvent(h.registry, 'crashed');
    await call(h, 'slowback', 'crash', { code: 5 }).catch(() => undefined);
    await crashed;
    expect(h.registry.get('team-a', 'slowback')!.status).toBe('restarting');
    await expect(call(h, 'slowback', 'echo', {}, 150)).rejects.toMatchObject({ code: -32001, data: { waitingFor: 'server slowback to start' } });
    const ac = new AbortController();
    const pending = h.registry.get('team-a', 'slowback')!.request('tools/list', undefined, { signal: ac.signal });
    ac.abort();
    await expect(pending).rejects.toMatchObject({ code: -32800 });
    // An explicit restart does not wait for the backoff.
    await h.registry.restart('team-a', 'slowback');
    expect(h.registry.get('team-a', 'slowback')!.status).toBe('online');
  });

  it('treats exit code 0 while not asked to stop as a crash', async () => {
    const h = await registries.start([server('quitter', [MINI])]);
    const crashed = nextEvent(h.registry, 'crashed');
    await expect(call(h, 'quitter', 'crash', { code: 0 })).rejects.toMatchObject({ code: -32000, message: 'Server quitter exited unexpectedly with code 0' });
    expect(await crashed).toMatchObject({ exit_code: 0, will_restart: true });
  });

  it('shows a child that dies during startup as error, with its stderr, and does not loop', async () => {
    const h = await registries.start([server('broken', [MINI, '--exit-on-start=2'])], { errorRetryMs: 60_000 });
    let started = 0;
    h.registry.events.on('status_changed', (e) => { if (e.status === 'starting') started++; });
    const snap = h.registry.list()[0]!;
    expect(snap.status).toBe('error');
    expect(snap.lastError).toBe('Server broken failed to start: exited with code 2 (stderr: fatal: refusing to start)');
    await expect(h.registry.get('team-a', 'broken')!.request('tools/list', undefined)).rejects.toThrow(/exited with code 2/);
    await new Promise((r) => setTimeout(r, 100));
    expect(started).toBe(0);
  });

  it('gives up on a child that never answers initialize, and kills it', async () => {
    const h = await registries.start([server('mute', [MINI, '--no-init'])], { startupTimeoutMs: 300 });
    const snap = h.registry.list()[0]!;
    expect(snap).toMatchObject({ status: 'error', lastError: 'Server mute failed to start: it did not answer initialize within 300 ms' });
    expect(snap.pid).toBeUndefined();
  });

  it('accepts an older protocol version the server negotiates, refuses one it does not know', async () => {
    const h = await registries.start([server('older', [MINI, '--protocol=2025-06-18']), server('alien', [MINI, '--protocol=1999-01-01'])]);
    expect(h.registry.get('team-a', 'older')!.initializeResult!.protocolVersion).toBe('2025-06-18');
    expect(h.registry.list().find((s) => s.serverSlug === 'alien')).toMatchObject({
      status: 'error', lastError: 'Server alien failed to start: it answered initialize with unsupported protocol version "1999-01-01"'
    });
  });

  it('refuses a command outside the allowlist with a clear error', async () => {
    const h = await registries.start([server('evil', [], { command: 'bash' })]);
    expect(h.registry.list()[0]).toMatchObject({ status: 'error', lastError: expect.stringMatching(/Command bash is not allowed/) });
  });

  it('kills a child that writes a line above the limit, tells the caller, and restarts it', async () => {
    const h = await registries.start([server('huge', [MINI])], { maxLineBytes: 64 * 1024 });
    const before = h.registry.list()[0]!.pid;
    const crashed = nextEvent(h.registry, 'crashed');
    const err = await call(h, 'huge', 'huge', { bytes: 200_000 }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: -32000, message: expect.stringMatching(/^Server huge wrote a message line of more than 65536 bytes .*restarted$/) });
    expect((await crashed).reason).toMatch(/more than 65536 bytes/);
    await waitFor(() => h.registry.get('team-a', 'huge')!.status === 'online', 3000, 'restart');
    expect(h.registry.list()[0]!.pid).not.toBe(before);
    expect((await call(h, 'huge', 'echo', { ok: 1 })).structuredContent).toEqual({ echo: { ok: 1 } });
  });

  it('fails calls clearly when a child stops reading stdin and the queue is full', async () => {
    const h = await registries.start([server('deaf', [MINI])], { maxStdinQueueBytes: 256 * 1024 });
    await call(h, 'deaf', 'stop_reading');
    const blob = 'y'.repeat(100 * 1024);
    const results = await Promise.all(Array.from({ length: 20 }, () => call(h!, 'deaf', 'echo', { blob }, 1000).then(() => 'ok', (e: JsonRpcError) => e.message)));
    expect(results).not.toContain("ok");
    expect(results.filter((m) => /stdin queue is full/.test(m)).length).toBeGreaterThan(0);
    // The ones that fit in the pipe or the queue time out instead.
    expect(results.filter((m) => m === 'Request timed out').length).toBeGreaterThan(0);
  });

  it('terminates with SIGTERM then SIGKILL to the whole process group', async () => {
    const h = await registries.start([server('stubborn', [MINI, '--ignore-term'])]);
    const pid = h.registry.list()[0]!.pid!;
    const grandchild = textOf(await call(h, 'stubborn', 'spawn_child')).pid as number;
    expect(isAlive(grandchild)).toBe(true);
    await h.registry.stop('team-a', 'stubborn');
    expect(h.registry.list()[0]!.status).toBe('stopped');
    await waitFor(() => !isAlive(pid) && !isAlive(grandchild), 2000, 'group gone');
    expect(h.registry.get('team-a', 'stubborn')!.logs!().map((l) => l.line)).toContain('ignoring SIGTERM');
  });
});
