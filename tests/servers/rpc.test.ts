import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JsonRpcNotification } from '../../src/mcp/jsonrpc';
import { JsonRpcError } from '../../src/mcp/jsonrpc';
import { MINI, server, startRegistry, textOf, type Harness } from './helpers';

describe('one stdio process shared by many callers', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startRegistry([server('mini', [MINI], { env: { SECRET_TOKEN: 'sup3r-s3cret-value' } })]);
  });
  afterAll(() => h.close());

  const up = () => h.registry.get('team-a', 'mini')!;

  it('initializes the child with the capabilities the gateway can route and records its answer', () => {
    expect(up().status).toBe('online');
    const init = up().initializeResult!;
    expect(init.serverInfo).toEqual({ name: 'mini-server', version: '1.0.0' });
    expect(init.capabilities).toMatchObject({ tools: { listChanged: true }, logging: {} });
    // The fixture reports the capabilities it received as its instructions.
    expect(JSON.parse(init.instructions as string).clientCapabilities).toEqual({ sampling: {}, elicitation: { form: {}, url: {} }, roots: { listChanged: true } });
  });

  it('gives 64 concurrent callers their own answers', async () => {
    const calls = Array.from({ length: 64 }, (_, caller) =>
      up().request('tools/call', { name: 'echo', arguments: { caller, n: 1 } }).then((r) => (r.structuredContent as { echo: { caller: number } }).echo.caller)
    );
    expect(await Promise.all(calls)).toEqual(Array.from({ length: 64 }, (_, i) => i));
  });

  it('maps progress tokens to a unique upstream token and back to the caller', async () => {
    const a: JsonRpcNotification[] = [];
    const b: JsonRpcNotification[] = [];
    const [ra, rb] = await Promise.all([
      up().request('tools/call', { name: 'progress', arguments: {}, _meta: { progressToken: 1 } }, { onNotification: (n) => a.push(n) }),
      up().request('tools/call', { name: 'progress', arguments: {}, _meta: { progressToken: 1 } }, { onNotification: (n) => b.push(n) })
    ]);
    for (const got of [a, b]) {
      expect(got.map((n) => n.params?.progress)).toEqual([0, 50, 100]);
      expect(got.every((n) => n.method === 'notifications/progress' && n.params?.progressToken === 1)).toBe(true);
    }
    const upstreamA = textOf(ra).token;
    const upstreamB = textOf(rb).token;
    expect(upstreamA).not.toBe(1);
    expect(upstreamA).not.toBe(upstreamB);
  });

  it('sends a server→client request to the caller that caused it and its answer back to the child', async () => {
    const seen: string[] = [];
    const res = await up().request('tools/call', { name: 'sample', arguments: { prompt: 'hi' } }, {
      onRequest: async (method, params) => {
        seen.push(method);
        const prompt = ((params?.messages as any[])[0].content.text) as string;
        return { role: 'assistant', content: { type: 'text', text: `echo:${prompt}` }, model: 'test' };
      }
    });
    expect(seen).toEqual(['sampling/createMessage']);
    expect(textOf(res).answer.content.text).toBe('echo:hi');
  });

  it('attributes server→client requests of concurrent calls to the calls in the order they asked', async () => {
    const answers = await Promise.all(Array.from({ length: 8 }, (_, i) =>
      up().request('tools/call', { name: 'sample', arguments: { prompt: `p${i}` } }, {
        onRequest: async (_m, params) => ({ role: 'assistant', content: { type: 'text', text: `${i}:${(params?.messages as any[])[0].content.text}` }, model: 'm' })
      }).then((r) => textOf(r).answer.content.text)));
    expect(answers).toEqual(Array.from({ length: 8 }, (_, i) => `${i}:p${i}`));
  });

  it('aborts the answering of a server→client request the child cancels, and sends no answer', async () => {
    let reason: unknown;
    const res = await up().request('tools/call', { name: 'ask_then_cancel', arguments: {} }, {
      onRequest: (_method, _params, signal) => new Promise((resolve) => {
        signal!.addEventListener('abort', () => {
          reason = signal!.reason;
          resolve({ role: 'assistant', content: { type: 'text', text: 'too late' }, model: 'm' });
        });
      })
    });
    expect(reason).toBe('changed my mind');
    expect(textOf(res)).toEqual({ answered: false });
  });

  it('routes a log notification to the call in flight and answers pings of the child itself', async () => {
    const got: JsonRpcNotification[] = [];
    await up().request('tools/call', { name: 'log', arguments: { message: 'hello' } }, { onNotification: (n) => got.push(n) });
    expect(got).toEqual([{ jsonrpc: '2.0', method: 'notifications/message', params: { level: 'info', data: 'hello' } }]);
    expect(textOf(await up().request('tools/call', { name: 'ping_client', arguments: {} }))).toEqual({ pong: {} });
  });

  it('sends uncorrelated requests to listeners when no call can take them, else a clear error', async () => {
    const res = await up().request('tools/call', { name: 'sample', arguments: { prompt: 'x' } });
    expect(textOf(res).answer).toMatchObject({ code: -32601 });
    const off = up().addListener({ onRequest: async () => ({ role: 'assistant', content: { type: 'text', text: 'from listener' }, model: 'm' }) });
    try {
      const viaListener = await up().request('tools/call', { name: 'sample', arguments: { prompt: 'x' } });
      expect(textOf(viaListener).answer.content.text).toBe('from listener');
    } finally {
      off();
    }
  });

  it('times out a hung request with -32001 and tells the child with notifications/cancelled', async () => {
    const err = await up().request('tools/call', { name: 'hang', arguments: {} }, { timeoutMs: 150 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(JsonRpcError);
    expect(err).toMatchObject({ code: -32001, message: 'Request timed out' });
    const { cancelled } = textOf(await up().request('tools/call', { name: 'cancelled', arguments: {} }));
    expect(cancelled).toHaveLength(1);
    expect(typeof cancelled[0]).toBe('number');
  });

  it('turns a caller abort into notifications/cancelled with the upstream id', async () => {
    const ac = new AbortController();
    const pending = up().request('tools/call', { name: 'hang', arguments: {} }, { signal: ac.signal });
    setTimeout(() => ac.abort('client went away'), 50);
    await expect(pending).rejects.toMatchObject({ code: -32800 });
    const { cancelled } = textOf(await up().request('tools/call', { name: 'cancelled', arguments: {} }));
    expect(cancelled).toHaveLength(2);
    expect(cancelled[1]).toBeGreaterThan(cancelled[0]);
  });

  it('reassembles messages split across reads, multi-byte characters included', async () => {
    const text = 'päivää 🌍 '.repeat(20);
    const res = await up().request('tools/call', { name: 'dribble', arguments: { text } });
    expect(res.content).toEqual([{ type: 'text', text }]);
  });

  it('survives garbage on stdout', async () => {
    const pid = h.registry.list()[0]!.pid;
    const res = await up().request('tools/call', { name: 'garbage', arguments: {} });
    expect(res.content).toEqual([{ type: 'text', text: 'after garbage' }]);
    expect(textOf(await up().request('tools/call', { name: 'pid', arguments: {} })).pid).toBe(pid);
    expect(up().status).toBe('online');
  });

  it('keeps stderr in a bounded, rate-limited ring buffer with env values redacted', async () => {
    await up().request('tools/call', { name: 'stderr', arguments: { lines: 50 } });
    const upstream = up();
    let lines: { line: string }[] = [];
    for (let i = 0; i < 50 && lines.length < 20; i++) {
      await new Promise((r) => setTimeout(r, 20));
      lines = upstream.logs!();
    }
    // 20 lines per second are kept, the rest dropped.
    expect(lines).toHaveLength(20);
    expect(lines[0]!.line).toBe('line 0 secret=[REDACTED]');
    expect(lines.some((l) => l.line.includes('sup3r'))).toBe(false);
  });

  it('counts the tools it has seen', async () => {
    const list = await up().request('tools/list', undefined);
    expect(h.registry.list('team-a')[0]!.toolsCount).toBe((list.tools as unknown[]).length);
  });
});

describe('callbacks that throw', () => {
  let h2: Harness;
  beforeAll(async () => {
    h2 = await startRegistry([server('mini', [MINI])]);
  });
  afterAll(() => h2.close());
  const up2 = () => h2.registry.get('team-a', 'mini')!;

  it('survives listeners and event subscribers that throw', async () => {
    const off = up2().addListener({ onNotification: () => { throw new Error('listener bug'); } });
    const boom = (): void => { throw new Error('subscriber bug'); };
    h2.registry.events.on('logs', boom);
    try {
      await expect(up2().request('tools/call', { name: 'log', arguments: { message: 'to listeners' } })).resolves.toMatchObject({ content: [{ text: 'logged' }] });
      await up2().request('tools/call', { name: 'stderr', arguments: { lines: 1 } });
      await new Promise((r) => setTimeout(r, 50));
      expect(up2().status).toBe('online');
    } finally {
      off();
      h2.registry.events.off('logs', boom);
    }
  });
});
