import { describe, expect, it } from 'vitest';
import { EventLog } from '../../src/transports/event-log';

describe('EventLog (Last-Event-ID replay buffer)', () => {
  it('issues ids unique across streams that name their stream, and replays one stream after an id', () => {
    const log = new EventLog(10);
    const a1 = log.append(1, 'a1');
    const b1 = log.append(2, 'b1');
    const a2 = log.append(1, 'a2');
    expect(new Set([a1, b1, a2]).size).toBe(3);
    expect(EventLog.parse(b1)).toEqual({ streamNo: 2, seq: 2 });
    expect(log.since(EventLog.parse(a1)!)).toEqual([{ id: a2, data: 'a2' }]);
    expect(EventLog.parse('1-x')).toBeUndefined();
    expect(EventLog.parse('')).toBeUndefined();
  });

  it('keeps at most `max` events and at most `maxChars` of data, oldest dropped first', () => {
    const byCount = new EventLog(2);
    for (const d of ['x', 'y', 'z']) byCount.append(1, d);
    expect(byCount.since({ streamNo: 1, seq: 0 }).map((e) => e.data)).toEqual(['y', 'z']);

    const bySize = new EventLog(100, 10);
    bySize.append(1, '1234');
    bySize.append(1, '5678');
    bySize.append(1, 'abcd');
    expect(bySize.since({ streamNo: 1, seq: 0 }).map((e) => e.data)).toEqual(['5678', 'abcd']);
    const big = bySize.append(1, 'x'.repeat(11));
    expect(big).toBe('1-4');
    expect(bySize.since({ streamNo: 1, seq: 0 }).map((e) => e.data)).toEqual(['5678', 'abcd']);
  });
});
