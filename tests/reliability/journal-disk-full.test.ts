// The event journal on a disk that fills up (a real 64 KB tmpfs): writes cut short keep their
// tail, memory stays bounded while the disk refuses writes, and once space is back the journal
// holds every kept event, whole and in order, for the next run.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DurableEventQueue } from '../../src/events/journal';
import type { SatelliteEvent } from '../../src/events/types';

let dir: string;
beforeEach(() => {
  if (process.getuid?.() !== 0) return;
  dir = mkdtempSync(join(tmpdir(), 'satellite-journal-full-'));
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k,mode=0700', 'tmpfs', dir]);
});
afterEach(() => {
  if (process.getuid?.() !== 0) return;
  execFileSync('umount', ['-l', dir]);
  rmSync(dir, { recursive: true, force: true });
});

const event = (seq: number): SatelliteEvent => ({ seq, id: `e-${seq}`, type: 'mcp.client.activity', timestamp: new Date(0).toISOString(), data: { n: seq, pad: 'p'.repeat(900) } } as unknown as SatelliteEvent);

function fill(): string {
  const filler = join(dir, 'filler');
  try {
    writeFileSync(filler, Buffer.alloc(128 * 1024));
  } catch {
    // ENOSPC: the tmpfs is full now
  }
  return filler;
}

// Mounting a tmpfs needs root (CI runs as root); elsewhere this file is skipped.
describe.runIf(process.getuid?.() === 0)('event journal on a full disk', () => {
  it('holds at most maxUnwrittenBytes while the disk refuses writes, drops (and counts) the rest, then journals what it kept', () => {
    const q = new DurableEventQueue({ dir, maxInMemory: 10, maxUnwrittenBytes: 50 * 1024 });
    const filler = fill();
    for (let seq = 1; seq <= 2_000; seq++) {
      q.push(event(seq));
      if (seq % 50 === 0) q.flushWrites();
    }
    q.flushWrites();
    expect(q.writeFailing).toBe(true);
    // ~1 KB per event: 10 in memory plus what 50 KB of unwritten journal holds, not 2,000.
    expect(q.size).toBeLessThan(80);
    expect(q.droppedUnwritable).toBe(2_000 - q.size);

    rmSync(filler);
    q.flushWrites();
    expect(q.writeFailing).toBe(false);
    const kept = q.size;
    q.close();
    // Every kept event is a whole line, in order, and a new run finds them all.
    const lines = readFileSync(join(dir, 'pending.jsonl'), 'utf8').trim().split('\n');
    expect(lines.map((l) => (JSON.parse(l) as { seq: number }).seq)).toEqual([...Array(kept).keys()].map((i) => i + 1));
    const again = new DurableEventQueue({ dir, maxInMemory: 10 });
    expect(again.size).toBe(kept);
    expect(again.peek(3).map((e) => e.seq)).toEqual([1, 2, 3]);
    again.close();
  });
});
