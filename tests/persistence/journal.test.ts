// The session journal on its own: what a crash or a bad file leaves behind is read safely, the
// file stays bounded and private.
import { appendFileSync, chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashSessionId, parseEntry, type SessionRecord } from '../../src/transports/persistence/record';
import { SessionJournal } from '../../src/transports/persistence/session-journal';

let root: string;
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'satellite-journal-'));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

let n = 0;
const freshFile = (): string => join(root, `j-${++n}`, 'sessions.jsonl');
const tick = () => new Promise((r) => setImmediate(r));

function record(id: string, lastActivity = Date.now()): SessionRecord {
  return {
    hash: hashSessionId(id), teamId: 'team-a', userId: 'alice', target: { kind: 'team', teamId: 'team-a' },
    protocolVersion: '2025-11-25', clientCapabilities: {}, clientInfo: { name: 'c', version: '1' },
    subscriptions: [], createdAt: lastActivity, lastActivity
  };
}

describe('session journal', () => {
  it('reads back puts, touches and deletes; skips a torn last line and lines that are not records', async () => {
    const file = freshFile();
    const j = new SessionJournal({ file, maxRecords: 100 });
    j.put(record('one', 1000));
    j.put(record('two', 1000));
    j.touch(hashSessionId('one'), 5000);
    j.delete(hashSessionId('two'));
    await tick();
    j.close();
    appendFileSync(file, '{"op":"put","r":{"hash":"not-a-hash"}}\n[1,2]\n{"op":"put","r":{"ha');
    const again = new SessionJournal({ file, maxRecords: 100 });
    try {
      expect(again.size).toBe(1);
      expect(again.get(hashSessionId('one'))?.lastActivity).toBe(5000);
      expect(again.get(hashSessionId('two'))).toBeUndefined();
      // Rewritten at start: only the live record, nothing of the garbage.
      const lines = readFileSync(file, 'utf8').trim().split('\n');
      expect(lines).toHaveLength(1);
      expect(parseEntry(lines[0]!)).toMatchObject({ op: 'put', r: { hash: hashSessionId('one') } });
    } finally {
      again.close();
    }
  });

  it('rejects a record whose target belongs to another team than the record', () => {
    const r = { ...record('x'), target: { kind: 'team', teamId: 'team-b' } };
    expect(parseEntry(JSON.stringify({ op: 'put', r }))).toBeUndefined();
    expect(parseEntry(JSON.stringify({ op: 'put', r: record('x') }))).toBeDefined();
  });

  it('stays bounded: past maxRecords the least recently active record goes, also at start', async () => {
    const file = freshFile();
    const j = new SessionJournal({ file, maxRecords: 2 });
    j.put(record('old', 1000));
    j.put(record('mid', 2000));
    j.put(record('new', 3000));
    expect(j.size).toBe(2);
    expect(j.get(hashSessionId('old'))).toBeUndefined();
    await tick();
    j.close();
    const smaller = new SessionJournal({ file, maxRecords: 1 });
    try {
      expect([...smaller.records()].map((r) => r.hash)).toEqual([hashSessionId('new')]);
    } finally {
      smaller.close();
    }
  });

  it('drops records the caller does not keep (expired) when it starts', async () => {
    const file = freshFile();
    const j = new SessionJournal({ file, maxRecords: 10 });
    j.put(record('stale', 1000));
    j.put(record('fresh', Date.now()));
    await tick();
    j.close();
    const again = new SessionJournal({ file, maxRecords: 10, keep: (r) => r.lastActivity > Date.now() - 60_000 });
    try {
      expect(again.get(hashSessionId('stale'))).toBeUndefined();
      expect(again.get(hashSessionId('fresh'))).toBeDefined();
      expect(readFileSync(file, 'utf8')).not.toContain(hashSessionId('stale'));
    } finally {
      again.close();
    }
  });

  it('compacts when dead lines pile up, and makes an existing file private (0600)', async () => {
    const file = freshFile();
    mkdirSync(join(file, '..'), { recursive: true });
    writeFileSync(file, '');
    chmodSync(file, 0o644);
    const j = new SessionJournal({ file, maxRecords: 10 });
    try {
      expect(statSync(file).mode & 0o777).toBe(0o600);
      const r = record('busy', 1);
      j.put(r);
      for (let i = 2; i < 12_000; i++) j.touch(r.hash, i); // ~1.2 MB of touches, one record alive
      await tick();
      const lines = readFileSync(file, 'utf8').trim().split('\n');
      expect(lines.length).toBeLessThan(10);
      expect(parseEntry(lines[0]!)).toMatchObject({ op: 'put', r: { lastActivity: 11_999 } });
    } finally {
      j.close();
    }
  });
});
