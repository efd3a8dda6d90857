import { appendFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { EventBus } from '../../src/events/bus';
import { DurableEventQueue } from '../../src/events/journal';
import { tempDir } from '../backend/helpers';

const logs = (bus: EventBus, from: number, to: number) => {
  for (let n = from; n < to; n++) bus.emit('mcp.server.logs', { installation_id: 'i', team_id: 't', logs: [{ level: 'info', message: `line ${n}`, timestamp: new Date().toISOString() }] });
};
function open(dir: string, maxInMemory: number): { queue: DurableEventQueue; bus: EventBus } {
  const queue = new DurableEventQueue({ dir, maxInMemory });
  const bus = new EventBus();
  bus.attachSink(queue);
  return { queue, bus };
}
const nOf = (e: { data: any }) => Number(String(e.data.logs[0].message).slice(5));

describe('durable event queue', () => {
  let cleanup = () => {};
  afterEach(() => cleanup());

  it('spills beyond the memory bound to disk instead of dropping, and drains in order', () => {
    const t = tempDir();
    cleanup = t.cleanup;
    const { queue, bus } = open(t.dir, 5);
    logs(bus, 0, 23);
    expect(queue.size).toBe(23);
    expect(queue.inMemory).toBe(5);
    const seen: number[] = [];
    for (let i = 0; i < 20 && queue.size > 0; i++) {
      const batch = queue.peek(4);
      seen.push(...batch.map(nOf));
      queue.ack(batch.length);
      expect(queue.inMemory).toBeLessThanOrEqual(5);
    }
    expect(seen).toEqual([...Array(23).keys()]);
    queue.close();
  });

  it('reloads pending events after a restart (even without a clean close) and never returns finished ones', () => {
    const t = tempDir();
    cleanup = t.cleanup;
    const { queue: q1, bus: bus1 } = open(t.dir, 4);
    logs(bus1, 0, 10);
    q1.ack(3);
    q1.flushWrites(); // what the next tick would do; then the process "dies" without close()

    const { queue: q2, bus: bus2 } = open(t.dir, 4);
    expect(q2.size).toBe(7);
    expect(q2.peek(10).map(nOf)).toEqual([3, 4, 5, 6]);
    logs(bus2, 10, 12);
    expect(bus2.emit('mcp.client.activity', { team_id: 't', request_count: 1, tool_call_count: 0, last_activity_at: 'x' }).seq).toBeGreaterThan(12);
    const order: number[] = [];
    while (q2.size > 0) {
      const b = q2.peek(3);
      order.push(...b.filter((e) => e.type === 'mcp.server.logs').map(nOf));
      q2.ack(b.length);
    }
    expect(order).toEqual([3, 4, 5, 6, 7, 8, 9, 10, 11]);
    q2.close();
    // Everything finished: the journal is empty and a third start has nothing to send.
    expect(readFileSync(join(t.dir, 'pending.jsonl'), 'utf8')).toBe('');
    const q3 = new DurableEventQueue({ dir: t.dir, maxInMemory: 4 });
    expect(q3.size).toBe(0);
    expect(q3.lastSeq).toBeGreaterThan(12);
    q3.close();
  });

  it('reads a large spill back once, in order, across refills and a restart in the middle', () => {
    const t = tempDir();
    cleanup = t.cleanup;
    const { queue: q1, bus: bus1 } = open(t.dir, 50);
    logs(bus1, 0, 1_000);
    expect(q1.inMemory).toBe(50);
    const seen: number[] = [];
    const drain = (q: DurableEventQueue, batches: number) => {
      for (let i = 0; i < batches && q.size > 0; i++) {
        const b = q.peek(30);
        seen.push(...b.map(nOf));
        q.ack(b.length);
      }
    };
    drain(q1, 10);
    logs(bus1, 1_000, 1_010); // still appended behind the spill, never ahead of it
    q1.flushWrites();
    const { queue: q2 } = open(t.dir, 50);
    expect(q2.size).toBe(1_010 - seen.length);
    drain(q2, 100);
    expect(seen).toEqual([...Array(1_010).keys()]);
    expect(q2.size).toBe(0);
    q2.close();
    q1.close();
  });

  it('journals an event emitted after close for the next run', () => {
    const t = tempDir();
    cleanup = t.cleanup;
    const { queue: q1, bus } = open(t.dir, 10);
    logs(bus, 0, 2);
    q1.close();
    logs(bus, 2, 3);
    const q2 = new DurableEventQueue({ dir: t.dir, maxInMemory: 10 });
    expect(q2.peek(10).map(nOf)).toEqual([0, 1, 2]);
    q2.close();
  });

  it('skips a line torn by a crash mid-write', () => {
    const t = tempDir();
    cleanup = t.cleanup;
    const { queue: q1, bus } = open(t.dir, 10);
    logs(bus, 0, 2);
    q1.close();
    appendFileSync(join(t.dir, 'pending.jsonl'), '{"id":"x","seq":3,"type":"mcp.ser');
    const q2 = new DurableEventQueue({ dir: t.dir, maxInMemory: 10 });
    expect(q2.peek(10).map(nOf)).toEqual([0, 1]);
    q2.close();
  });
});

describe('event bus', () => {
  it('delivers to typed and catch-all subscribers and survives a throwing subscriber', () => {
    const bus = new EventBus();
    const got: string[] = [];
    bus.on('mcp.server.crashed', () => {
      throw new Error('subscriber bug');
    });
    const off = bus.on('mcp.server.crashed', (e) => got.push(`typed:${e.data.server_id}`));
    bus.onAny((e) => got.push(`any:${e.type}`));
    const e = bus.emit('mcp.server.crashed', { server_id: 's1', server_slug: 'x', team_id: 't', process_id: 9, exit_code: 1, signal: null, uptime_seconds: 3, crash_count: 1, will_restart: true });
    expect(e.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(Date.parse(e.timestamp)).not.toBeNaN();
    off();
    bus.emit('mcp.server.crashed', { server_id: 's2', server_slug: 'x', team_id: 't', process_id: 9, exit_code: 1, signal: null, uptime_seconds: 3, crash_count: 2, will_restart: true });
    expect(got).toEqual(['typed:s1', 'any:mcp.server.crashed', 'any:mcp.server.crashed']);
  });
});
