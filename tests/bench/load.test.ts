import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Agent } from 'undici';
import { runLoad } from '../../bench/lib/load';
import { LegacySseClient } from '../../bench/lib/legacy-sse-client';
import { SseParser, type SseEvent } from '../../bench/lib/sse';
import { StdioClient } from '../../bench/lib/stdio-client';
import { StreamableClient } from '../../bench/lib/streamable-client';

const ECHO = join(__dirname, '..', '..', 'bench', 'echo-server.mjs');

type Mode = 'json-crossed' | 'json-wrong-id' | 'sse-split';

/** A Streamable HTTP responder that misbehaves on purpose (or answers as split SSE), over real HTTP. */
function fakeServer(mode: Mode): Server {
  let previousText: string | undefined;
  return createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const msg = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { id?: number; method: string; params?: any };
      if (msg.id === undefined) {
        res.writeHead(202).end();
        return;
      }
      let result: unknown = { protocolVersion: '2025-06-18', capabilities: { tools: {} }, serverInfo: { name: 'fake', version: '1' } };
      let id = msg.id;
      if (msg.method === 'tools/call') {
        const text = String(msg.params?.arguments?.text);
        // Cross-delivery: every caller gets the payload of the request before it.
        const answered = mode === 'json-crossed' ? previousText ?? text : text;
        previousText = text;
        result = { content: [{ type: 'text', text: answered }] };
        if (mode === 'json-wrong-id') id = msg.id + 1000;
      }
      const body = JSON.stringify({ jsonrpc: '2.0', id, result });
      if (mode !== 'sse-split' || msg.method !== 'tools/call') {
        res.writeHead(200, { 'content-type': 'application/json', 'mcp-session-id': 's1' }).end(body);
        return;
      }
      res.writeHead(200, { 'content-type': 'text/event-stream', 'mcp-session-id': 's1' });
      const note = JSON.stringify({ jsonrpc: '2.0', method: 'notifications/message', params: { level: 'info', data: 'x' } });
      const stream = `: comment\r\nevent: message\r\ndata: ${note}\r\n\r\nevent: message\ndata: ${body}\n\n`;
      const cut = Math.floor(stream.length / 2);
      res.write(stream.slice(0, cut));
      setImmediate(() => res.end(stream.slice(cut)));
    });
  });
}

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const addr = server.address();
  return `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}/mcp`;
}

describe('bench load generator', () => {
  const agent = new Agent({ connections: 16 });
  const servers: Server[] = [];
  afterAll(async () => {
    await agent.close();
    for (const s of servers) await new Promise((r) => s.close(r));
  });

  async function load(mode: Mode): Promise<Awaited<ReturnType<typeof runLoad>>> {
    const server = fakeServer(mode);
    servers.push(server);
    const client = await StreamableClient.connect(agent, await listen(server), 2000);
    return runLoad({ clients: [client], inflightPerClient: 4, toolName: 'echo', durationMs: 2000, maxCalls: 40 });
  }

  it('verifies every echo through the real stdio echo server and finds none wrong', async () => {
    const client = await StdioClient.spawn(process.execPath, [ECHO], 2000);
    try {
      const r = await runLoad({ clients: [client], inflightPerClient: 8, toolName: 'echo', durationMs: 2000, maxCalls: 500 });
      expect(r.calls).toBe(500);
      expect(r).toMatchObject({ errors: 0, wrong: 0 });
      expect(r.p99Ms).toBeGreaterThan(0);
    } finally {
      await client.close();
    }
  });

  it('counts answers carrying another request\'s payload as wrong and as errors', async () => {
    const r = await load('json-crossed');
    expect(r.calls).toBe(40);
    expect(r.wrong).toBeGreaterThanOrEqual(39);
    expect(r.errors).toBe(r.wrong);
    expect(r.firstError).toMatch(/payload/);
  });

  it('counts an answer with another id as wrong', async () => {
    const r = await load('json-wrong-id');
    expect(r).toMatchObject({ calls: 40, wrong: 40, errors: 40 });
    expect(r.firstError).toMatch(/answer id 1002 for request id 2/);
  });

  it('reads answers sent as an SSE stream split mid-line, skipping notifications', async () => {
    const r = await load('sse-split');
    expect(r).toMatchObject({ calls: 40, errors: 0, wrong: 0 });
  });
});

/**
 * A legacy HTTP+SSE server; `broadcast` sends every answer to every open stream, as a gateway that
 * multiplexes sessions onto one upstream without remapping ids would.
 */
function legacyServer(broadcast: boolean): Server {
  const streams = new Map<string, ServerResponse>();
  let n = 0;
  return createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (req.method === 'GET') {
      const sid = `s${++n}`;
      streams.set(sid, res);
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(`event: endpoint\ndata: /message?sessionId=${sid}\n\n`);
      req.on('close', () => streams.delete(sid));
      return;
    }
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const msg = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { id?: number; method: string; params?: any };
      res.writeHead(202).end();
      if (msg.id === undefined) return;
      const result = msg.method === 'tools/call'
        ? { content: [{ type: 'text', text: String(msg.params?.arguments?.text) }] }
        : { protocolVersion: '2024-11-05', capabilities: { tools: {} }, serverInfo: { name: 'fake', version: '1' } };
      const event = `event: message\ndata: ${JSON.stringify({ jsonrpc: '2.0', id: msg.id, result })}\n\n`;
      const own = streams.get(url.searchParams.get('sessionId') ?? '');
      for (const s of broadcast ? streams.values() : own ? [own] : []) s.write(event);
    });
  });
}

describe('bench legacy SSE client', () => {
  const agent = new Agent({ connections: 16 });
  const servers: Server[] = [];
  afterAll(async () => {
    await agent.close();
    for (const s of servers) {
      s.closeAllConnections();
      await new Promise((r) => s.close(r));
    }
  });

  async function load(broadcast: boolean): Promise<Awaited<ReturnType<typeof runLoad>>> {
    const server = legacyServer(broadcast);
    servers.push(server);
    const url = (await listen(server)).replace('/mcp', '/sse');
    const clients = [await LegacySseClient.connect(agent, url, 2000), await LegacySseClient.connect(agent, url, 2000)];
    try {
      return await runLoad({ clients, inflightPerClient: 2, toolName: 'echo', durationMs: 2000, maxCalls: 200 });
    } finally {
      for (const c of clients) await c.close();
    }
  }

  it('matches answers on the stream by id and verifies them', async () => {
    expect(await load(false)).toMatchObject({ calls: 200, errors: 0, wrong: 0 });
  });

  it('counts answers broadcast to another session with the same id as wrong', async () => {
    const r = await load(true);
    expect(r.wrong).toBeGreaterThan(0);
    expect(r.firstError).toMatch(/payload/);
  });
});

describe('SSE parser', () => {
  it('handles CRLF, CR, multi-line data, comments and chunk boundaries anywhere', () => {
    const events: SseEvent[] = [];
    const p = new SseParser((e) => events.push(e));
    const text = 'event: endpoint\r\ndata: /message?s=1\r\n\r\n: ping\n\ndata: a\rdata: b\r\rid: 7\ndata:c\n\n';
    for (const ch of text) p.push(ch);
    expect(events).toEqual([
      { event: 'endpoint', data: '/message?s=1', id: undefined },
      { event: 'message', data: 'a\nb', id: undefined },
      { event: 'message', data: 'c', id: '7' }
    ]);
  });
});

describe('repeated cells', () => {
  it('report the median run by req/s and never hide an error or wrong answer of any run', async () => {
    const { medianRun } = await import('../../bench/lib/measure');
    const run = (rps: number, errors: number, wrong: number) => ({
      sessions: 1, inflight: 1, calls: 100, errors, wrong, durationMs: 1000, rps, p50Ms: rps / 1000, p99Ms: 1, maxMs: 1,
      firstError: errors ? `e${rps}` : undefined
    });
    const m = medianRun([run(300, 0, 0), run(100, 2, 1), run(200, 0, 0)]);
    expect(m).toMatchObject({ rps: 200, p50Ms: 0.2, errors: 2, wrong: 1, firstError: 'e100', rpsRuns: [300, 100, 200], callsAllRuns: 300 });
  });
});

describe('bench options', () => {
  it('rejects bad values with a message naming the option', async () => {
    const { parseOptions } = await import('../../bench/lib/options');
    expect(() => parseOptions(['--duration=abc'], {})).toThrow(/--duration must be a number/);
    expect(() => parseOptions(['--only=nope'], {})).toThrow(/--only takes/);
    expect(() => parseOptions(['--frobnicate'], {})).toThrow(/unknown option --frobnicate/);
    expect(parseOptions(['--quick', '--only=direct,sdk'], {})).toMatchObject({ durationMs: 1500, idleSessions: 200 });
  });
});
