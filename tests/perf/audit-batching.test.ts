import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { AuditLog } from '../../src/audit/audit-log';
import { RotatingFile } from '../../src/audit/rotating-file';

const nextTurn = () => new Promise<void>((r) => setImmediate(r));
const lines = (file: string) => readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);

function withDir(fn: (dir: string) => Promise<void> | void) {
  return async () => {
    const dir = mkdtempSync(join(tmpdir(), 'satellite-audit-batch-'));
    try {
      await fn(dir);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
}

describe('audit records are batched per event-loop turn', () => {
  it('writes the records of one turn together at its end, in order, in the fixed shape', withDir(async (dir) => {
    const file = join(dir, 'audit.log');
    const audit = new AuditLog({ file, maxBytes: 1 << 20, maxFiles: 2 }, pino({ level: 'silent' }));
    try {
      for (let i = 0; i < 50; i++) {
        audit.record('tool.called', { team: 't', session: `s-${i}`, server: 'echo', tool: 'echo', durationMs: i, outcome: 'ok', arguments: { n: i } });
      }
      expect(readFileSync(file, 'utf8')).toBe(''); // nothing on the caller's path
      await nextTurn();
      const records = lines(file);
      expect(records.map((r) => r.durationMs)).toEqual(Array.from({ length: 50 }, (_, i) => i));
      expect(Object.keys(records[0]!).slice(0, 3)).toEqual(['type', 'time', 'action']);
      expect(records[0]).toMatchObject({ type: 'audit', action: 'tool.called', team: 't', server: 'echo', argumentNames: ['n'] });
      expect(records[0]!.session).toMatch(/^sha256:[0-9a-f]{16}$/);
    } finally {
      audit.close();
    }
  }));

  it('loses nothing recorded right before close', withDir((dir) => {
    const file = join(dir, 'audit.log');
    const audit = new AuditLog({ file, maxBytes: 1 << 20, maxFiles: 2 }, pino({ level: 'silent' }));
    audit.record('command.executed', { command: 'a', outcome: 'ok' });
    audit.record('session.ended', { team: 't', session: 's', reason: 'shutdown' });
    audit.close();
    expect(lines(file).map((r) => r.action)).toEqual(['command.executed', 'session.ended']);
  }));

  it('still drops secret-looking keys and values without a logger redaction pass', withDir((dir) => {
    const file = join(dir, 'audit.log');
    const audit = new AuditLog({ file, maxBytes: 1 << 20, maxFiles: 2 }, pino({ level: 'silent' }));
    const extra = { url_query_params: 'k=v-secret', apiKey: 'k-secret', client_secret: 'c-secret', env: 'e-secret', headers: 'h-secret' };
    audit.record('command.executed', { command: 'x', outcome: 'error', error: 'GET /x?access_token=t-secret Bearer b-secret', ...(extra as object) });
    audit.close();
    const text = readFileSync(file, 'utf8');
    expect(text).not.toMatch(/secret/);
    expect(lines(file)[0]).toEqual({ type: 'audit', time: expect.any(String), action: 'command.executed', command: 'x', outcome: 'error', error: 'GET /x?access_token=[Redacted] Bearer [Redacted]' });
  }));

  it('rotates a batch on line boundaries', withDir(async (dir) => {
    const path = join(dir, 'audit.log');
    const file = new RotatingFile(path, 200, 3);
    for (let i = 0; i < 12; i++) file.write(`${JSON.stringify({ n: i, pad: 'x'.repeat(40) })}\n`);
    await nextTurn();
    const numbers = [`${path}.3`, `${path}.2`, `${path}.1`, path].flatMap((p) => { try { return lines(p).map((r) => r.n); } catch { return []; } });
    expect(numbers).toEqual(Array.from({ length: numbers.length }, (_, i) => 12 - numbers.length + i));
    expect(numbers.at(-1)).toBe(11);
    for (const p of [`${path}.1`, path]) expect(readFileSync(p).length).toBeLessThanOrEqual(200);
    file.close();
  }));

  it('reports a batch the disk refuses on the app log and keeps going', async () => {
    const errors: Array<Record<string, unknown>> = [];
    const log = pino({ level: 'error' }, { write: (l: string) => errors.push(JSON.parse(l)) });
    // /dev/full accepts the open and refuses every write with ENOSPC.
    const audit = new AuditLog({ file: '/dev/full', maxBytes: 1 << 40, maxFiles: 1 }, log as never);
    try {
      audit.record('command.executed', { command: 'a', outcome: 'ok' });
      audit.record('command.executed', { command: 'b', outcome: 'ok' });
      expect(() => audit.flush()).not.toThrow();
      expect(errors).toHaveLength(1);
      expect(errors[0]).toMatchObject({ msg: 'audit write failed', lines: 2, failures: 1 });
      expect(String(errors[0]!.error)).toMatch(/ENOSPC/);
    } finally {
      audit.close();
    }
  });
});
