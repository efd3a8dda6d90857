import { describe, expect, it } from 'vitest';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { StdinQueueFullError, StdinWriter } from '../../src/servers/stdio/stdin-writer';

const nextTurn = () => new Promise<void>((r) => setImmediate(r));

// A real child: echoes stdin to stdout, or (paused) never reads it.
function child(mode: 'echo' | 'paused'): ChildProcessWithoutNullStreams {
  const code = mode === 'echo' ? 'process.stdin.pipe(process.stdout)' : 'setTimeout(() => {}, 20000)';
  return spawn(process.execPath, ['-e', code], { stdio: 'pipe' });
}

async function readLines(c: ChildProcessWithoutNullStreams, count: number): Promise<string[]> {
  let text = '';
  const deadline = Date.now() + 5000;
  for await (const chunk of c.stdout) {
    text += String(chunk);
    if (text.split('\n').length > count || Date.now() > deadline) break;
  }
  return text.split('\n').slice(0, count);
}

describe('stdin writes of one event-loop turn are coalesced', () => {
  it('holds the lines of a turn corked, then delivers all of them in order', async () => {
    const c = child('echo');
    try {
      const w = new StdinWriter(c.stdin, 1 << 20);
      const sent = Array.from({ length: 200 }, (_, i) => JSON.stringify({ jsonrpc: '2.0', id: i, method: 'ping' }));
      const writes: number[] = [];
      const origWritev = (c.stdin as unknown as { _writev: (chunks: unknown[], cb: () => void) => void })._writev;
      (c.stdin as unknown as { _writev: typeof origWritev })._writev = function (chunks, cb) {
        writes.push(chunks.length);
        return origWritev.call(this, chunks, cb);
      };
      for (const line of sent) w.write(`${line}\n`);
      expect(c.stdin.writableCorked).toBe(1);
      await nextTurn();
      expect(c.stdin.writableCorked).toBe(0);
      // All 200 lines left in one vectored write, not 200 writes.
      expect(writes).toEqual([200]);
      expect(await readLines(c, 200)).toEqual(sent);
    } finally {
      c.kill('SIGKILL');
    }
  });

  it('still honours drain and the bounded queue when the child does not read', async () => {
    const c = child('paused');
    try {
      const w = new StdinWriter(c.stdin, 64 * 1024);
      const line = `${'x'.repeat(1023)}\n`;
      let refused: unknown;
      // The pipe (64 KiB) and the stream's buffer fill, then the queue's 64 KiB, then refusal.
      for (let i = 0; i < 2000 && refused === undefined; i++) {
        try {
          w.write(line);
        } catch (err) {
          refused = err;
        }
        if (i % 16 === 15) await nextTurn();
      }
      expect(refused).toBeInstanceOf(StdinQueueFullError);
      expect(w.queuedBytes).toBeLessThanOrEqual(64 * 1024);
      expect(w.queuedBytes).toBeGreaterThan(60 * 1024);
    } finally {
      c.kill('SIGKILL');
    }
  });
});
