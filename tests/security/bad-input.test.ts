// Hostile input at the HTTP edge: malformed JSON-RPC, bad headers and path tricks in server slugs.
// Each gets its HTTP status and a JSON-RPC error, and the daemon stays healthy for a normal client.
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { headers, initBody, openSession, sseReader, startApp, TOKEN_A, TOKEN_B } from '../transports/helpers';
import { rawHttp, rawSocket } from './raw-http';

let app: FastifyInstance;
let base: string;
let url: string;
let sid: string;

beforeAll(async () => {
  ({ app, base } = await startApp());
  url = `${base}/servers/conf/mcp`;
  sid = await openSession(url);
});
afterAll(() => app.close());

interface Answer { status: number; json: any }
async function post(body: string | Buffer, extra: Record<string, string> = {}, token = TOKEN_A): Promise<Answer> {
  const res = await fetch(url, { method: 'POST', headers: headers(token, { 'mcp-session-id': sid, ...extra }), body });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : undefined };
}
const rpc = (msg: object) => JSON.stringify({ jsonrpc: '2.0', ...msg });

/** The daemon still answers GET / and a normal ping after whatever came before. */
async function expectHealthy(): Promise<void> {
  expect((await fetch(`${base}/`)).status).toBe(200);
  const pong = await post(rpc({ id: 'alive', method: 'ping' }));
  expect(pong).toEqual({ status: 200, json: { jsonrpc: '2.0', id: 'alive', result: {} } });
}

describe('malformed JSON-RPC', () => {
  it.each([
    ['an object id', rpc({ id: {}, method: 'ping' }), null],
    ['an array id', rpc({ id: [1], method: 'ping' }), null],
    ['a boolean id', rpc({ id: true, method: 'ping' }), null],
    ['a numeric method', rpc({ id: 1, method: 5 }), 1],
    ['jsonrpc 1.0', JSON.stringify({ jsonrpc: '1.0', id: 2, method: 'ping' }), 2],
    ['a missing jsonrpc', JSON.stringify({ id: 3, method: 'ping' }), 3],
    ['string params', rpc({ id: 4, method: 'tools/list', params: 'x' }), 4],
    ['a bare string', '"ping"', null],
    ['a bare number', '42', null],
    ['null', 'null', null],
    ['an empty batch', '[]', null],
    ['an id too large for a double (1e400)', '{"jsonrpc":"2.0","id":1e400,"method":"ping"}', null],
    ['result and error together', rpc({ id: 5, result: {}, error: { code: 1, message: 'x' } }), 5]
  ])('%s: 400 with -32600 and the id when usable', async (_name, body, id) => {
    const r = await post(body);
    expect(r.status).toBe(400);
    expect(r.json).toMatchObject({ jsonrpc: '2.0', id, error: { code: -32600 } });
  });

  it.each([
    ['truncated JSON', '{"jsonrpc":"2.0","id":1,"method":"pi'],
    ['trailing garbage', '{"jsonrpc":"2.0","id":1,"method":"ping"} x'],
    ['invalid UTF-8 inside a string', Buffer.concat([Buffer.from('{"jsonrpc":"2.0","id":8,"method":"ping","params":{"x":"'), Buffer.from([0xff, 0xfe, 0xc3]), Buffer.from('"}}')])],
    ['a lone UTF-16 surrogate encoded as CESU bytes', Buffer.concat([Buffer.from('{"jsonrpc":"2.0","id":9,"method":"ping","params":{"x":"'), Buffer.from([0xed, 0xa0, 0x80]), Buffer.from('"}}')])],
    ['an empty body', '']
  ])('%s: 400 with -32700', async (_name, body) => {
    const r = await post(body);
    expect(r.status).toBe(400);
    expect(r.json).toMatchObject({ jsonrpc: '2.0', id: null, error: { code: -32700 } });
  });

  it('huge but valid ids come back exactly as sent', async () => {
    const longId = 'i'.repeat(100_000);
    expect((await post(rpc({ id: longId, method: 'ping' }))).json).toEqual({ jsonrpc: '2.0', id: longId, result: {} });
    expect((await post(rpc({ id: Number.MAX_SAFE_INTEGER, method: 'ping' }))).json.id).toBe(Number.MAX_SAFE_INTEGER);
    expect((await post(rpc({ id: -1.5, method: 'ping' }))).json.id).toBe(-1.5);
  });

  it('deep nesting is refused up front (no stack overflow down the line), in a tool call or a batch', async () => {
    for (const depth of [300, 5_000, 200_000]) {
      const deep = `${'['.repeat(depth)}${']'.repeat(depth)}`;
      const r = await post(`{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"echo","arguments":{"a":${deep}}}}`);
      expect(r.status, `depth ${depth}`).toBe(400);
      expect(r.json.error).toMatchObject({ code: -32600, message: expect.stringContaining('nested deeper than') });
    }
    // 200 levels are fine and reach the server.
    const ok = await post(rpc({ id: 8, method: 'tools/call', params: { name: 'test_simple_text', arguments: { a: JSON.parse(`${'['.repeat(200)}${']'.repeat(200)}`) } } }));
    expect(ok.status).toBe(200);
    expect(ok.json.id).toBe(8);
  });

  it('a 10 MB body is refused with 413 before it is parsed', async () => {
    const r = await post(rpc({ id: 9, method: 'ping', params: { x: 'x'.repeat(10 * 1024 * 1024) } }));
    expect(r.status).toBe(413);
    expect(r.json).toMatchObject({ id: null, error: { code: -32600 } });
  });

  it('a batch of 10,000 is refused on 2025-11-25 and answered in full (or refused whole) on 2025-03-26', async () => {
    const batch = JSON.stringify(Array.from({ length: 10_000 }, (_, i) => ({ jsonrpc: '2.0', id: i, method: 'ping' })));
    const modern = await post(batch);
    expect(modern.status).toBe(400);
    expect(modern.json.error.code).toBe(-32600);

    const old = await openSession(url, TOKEN_A, '2025-03-26');
    const r = await post(batch, { 'mcp-session-id': old, 'mcp-protocol-version': '2025-03-26' });
    if (r.status === 200) {
      // Every request answered once, each with its own id.
      expect(r.json).toHaveLength(10_000);
      expect(new Set((r.json as Array<{ id: number }>).map((m) => m.id)).size).toBe(10_000);
    } else {
      expect([400, 413, 429]).toContain(r.status);
      expect(r.json.error.code).toBeLessThan(0);
    }
  });

  it('a batch of 10,000 tool calls on 2025-03-26 is answered once per id, the excess refused by the team budget, not queued without bound', async () => {
    const old = await openSession(url, TOKEN_A, '2025-03-26');
    const batch = JSON.stringify(Array.from({ length: 10_000 }, (_, i) => ({ jsonrpc: '2.0', id: i, method: 'tools/call', params: { name: 'test_simple_text', arguments: {} } })));
    const r = await post(batch, { 'mcp-session-id': old, 'mcp-protocol-version': '2025-03-26' });
    expect(r.status).toBe(200);
    const answers = r.json as Array<{ id: number; result?: unknown; error?: { code: number } }>;
    expect(answers).toHaveLength(10_000);
    expect(new Set(answers.map((a) => a.id)).size).toBe(10_000);
    const refused = answers.filter((a) => a.error !== undefined);
    for (const a of refused) expect(a.error!.code).toBe(-32010);
    expect(answers.length - refused.length).toBeGreaterThan(0);
    expect(refused.length).toBeGreaterThan(0);
  }, 20_000);

  it('the legacy /message endpoint refuses the same bodies the same way', async () => {
    const stream = await fetch(`${base}/servers/conf/sse`, { headers: { authorization: `Bearer ${TOKEN_A}`, accept: 'text/event-stream' } });
    const sse = sseReader(stream);
    try {
      const endpoint = new URL((await sse.read((ev) => ev.length >= 1, 3_000)).events[0]!.data, base);
      const bodies: Array<[string | Buffer, number]> = [
        [Buffer.concat([Buffer.from('{"jsonrpc":"2.0","id":1,"method":"ping","params":{"x":"'), Buffer.from([0xff]), Buffer.from('"}}')]), -32700],
        [`{"jsonrpc":"2.0","id":1,"method":"ping","params":{"a":${'['.repeat(5_000)}${']'.repeat(5_000)}}}`, -32600]
      ];
      for (const [body, code] of bodies) {
        const r = await fetch(endpoint, { method: 'POST', headers: { authorization: `Bearer ${TOKEN_A}`, 'content-type': 'application/json' }, body });
        expect(r.status).toBe(400);
        expect(((await r.json()) as { error: { code: number } }).error.code).toBe(code);
      }
    } finally {
      await sse.cancel();
    }
  });

  it('stays healthy after the barrage', expectHealthy);
});

describe('bad headers', () => {
  it.each([
    ['empty', ''],
    ['short', 'abc'],
    ['one character short', 'x'.repeat(42)],
    ['one character long', 'x'.repeat(44)],
    ['4 KB', 'x'.repeat(4096)],
    ['non-base64url characters', '../../../../etc/passwd'.padEnd(43, '/')]
  ])('a session id that is %s gives 404 (or 400 when empty), never a session', async (_name, bad) => {
    const res = await fetch(url, { method: 'POST', headers: headers(TOKEN_A, { 'mcp-session-id': bad }), body: rpc({ id: 1, method: 'ping' }) });
    expect(bad === '' ? [400, 404] : [404]).toContain(res.status);
    expect(res.headers.get('mcp-session-id')).toBeNull();
    expect(((await res.json()) as any).error.code).toBeLessThan(0);
  });

  it('a real session id with a suffix is another, unknown session (404)', async () => {
    const res = await fetch(url, { method: 'POST', headers: headers(TOKEN_A, { 'mcp-session-id': `${sid}x` }), body: rpc({ id: 1, method: 'ping' }) });
    expect(res.status).toBe(404);
  });

  it('an unknown or malformed MCP-Protocol-Version gives 400 with a JSON-RPC error', async () => {
    for (const v of ['1999-01-01', '2025-11-26', 'latest', 'x'.repeat(2000)]) {
      const r = await post(rpc({ id: 1, method: 'ping' }), { 'mcp-protocol-version': v });
      expect(r.status, v).toBe(400);
      expect(r.json.error.message).toMatch(/MCP-Protocol-Version/);
    }
  });

  it('CRLF or a bare CR inside a header is refused by the HTTP parser (400), nothing injected', async () => {
    for (const sep of ['\r', '\n ', '\r\nX-Injected: yes\r\nX-More:']) {
      const raw = await rawSocket(base, `POST /servers/conf/mcp HTTP/1.1\r\nHost: ${new URL(base).host}\r\nAuthorization: Bearer ${TOKEN_A}\r\nMcp-Session-Id: ${sid}${sep}evil\r\nContent-Type: application/json\r\nAccept: application/json, text/event-stream\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}`);
      if (sep.startsWith('\r\nX-Injected')) {
        // Valid framing: the injected lines are separate headers; the session id is still unknown-free.
        expect(raw).toMatch(/^HTTP\/1\.1 (400|404) /);
      } else {
        expect(raw).toMatch(/^HTTP\/1\.1 400 /);
      }
      expect(raw).not.toMatch(/X-Injected/i);
    }
  });

  it('request smuggling framings are refused (400), and a chunked body past the limit gets 413', async () => {
    const host = `Host: ${new URL(base).host}\r\nAuthorization: Bearer ${TOKEN_A}\r\nContent-Type: application/json\r\nAccept: application/json, text/event-stream\r\nMcp-Session-Id: ${sid}\r\n`;
    const ping = '{"jsonrpc":"2.0","id":1,"method":"ping"}';
    const smuggled = [
      `POST /servers/conf/mcp HTTP/1.1\r\n${host}Content-Length: ${ping.length}\r\nTransfer-Encoding: chunked\r\n\r\n${ping.length.toString(16)}\r\n${ping}\r\n0\r\n\r\n`,
      `POST /servers/conf/mcp HTTP/1.1\r\n${host}Content-Length: ${ping.length}\r\nContent-Length: 5\r\n\r\n${ping}`,
      `POST /servers/conf/mcp HTTP/1.1\r\n${host}Transfer-Encoding: chunked, identity\r\n\r\n${ping.length.toString(16)}\r\n${ping}\r\n0\r\n\r\n`
    ];
    for (const req of smuggled) expect(await rawSocket(base, req)).toMatch(/^HTTP\/1\.1 400 /);
    const chunk = 'x'.repeat(64 * 1024);
    const big = Array.from({ length: 80 }, () => `${chunk.length.toString(16)}\r\n${chunk}\r\n`).join('');
    const over = await rawSocket(base, `POST /servers/conf/mcp HTTP/1.1\r\n${host}Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n${big}0\r\n\r\n`);
    expect(over).toMatch(/^HTTP\/1\.1 413 /);
  });

  it('a header block past the size limit gets 431 and the connection is dropped, nothing more', async () => {
    const r = await rawHttp(base, 'POST', '/servers/conf/mcp', { ...headers(), 'x-pad': 'p'.repeat(64 * 1024) }, initBody());
    expect(r.status).toBe(431);
  });

  it('stays healthy after the barrage', expectHealthy);
});

describe('path tricks in server slugs', () => {
  const tricks: Array<[string, number]> = [
    ['/servers/../mcp', 404],
    ['/servers/%2e%2e/mcp', 404],
    ['/servers/%2E%2E/mcp', 404],
    ['/servers/..%2fconf/mcp', 404],
    ['/servers/%2e%2e%2fconf/mcp', 404],
    ['/servers/conf%2F..%2Fconf/mcp', 404],
    ['/servers/a%2Fb/mcp', 404],
    ['/servers/.%2Fconf/mcp', 404],
    ['/servers/conf%00/mcp', 404],
    ['/servers/%00/mcp', 404],
    ['/servers/CONF/mcp', 404],
    ['/servers/%C3%BC/mcp', 404],
    ['/servers/c%CE%BFnf/mcp', 404], // Greek omicron: looks like "conf"
    ['/servers/conf-b/mcp', 404], // team B's server, asked with team A's token
    ['/servers/%ZZ/mcp', 400],
    ['/servers/%C3/mcp', 400],
    [`/servers/${'a'.repeat(5000)}/mcp`, 414]
  ];
  it.each(tricks)('%s answers %i with a JSON-RPC error and never reaches a server', async (path, status) => {
    const r = await rawHttp(base, 'POST', path, headers(), initBody());
    expect(r.status).toBe(status);
    expect(r.headers['mcp-session-id']).toBeUndefined();
    const body = JSON.parse(r.body);
    expect(body).toMatchObject({ jsonrpc: '2.0', id: null, error: { code: expect.any(Number) } });
    // The answer never echoes a long hostile path back.
    expect(r.body.length).toBeLessThan(600);
  });

  it('a URL past the header size limit gets 431', async () => {
    const r = await rawHttp(base, 'POST', `/servers/${'a'.repeat(70_000)}/mcp`, headers(), initBody());
    expect(r.status).toBe(431);
  });

  it('team B\'s token never reaches team A\'s server through any spelling', async () => {
    for (const path of ['/servers/conf/mcp', '/servers/%63onf/mcp', '/servers/conf/mcp/', '/servers/conf/mcp?team=team-a']) {
      const r = await rawHttp(base, 'POST', path, headers(TOKEN_B), initBody());
      expect(r.status, path).toBe(404);
    }
  });

  it('a normal SDK client still works after everything above', async () => {
    await expectHealthy();
    const client = new Client({ name: 'after-barrage', version: '1' });
    await client.connect(new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers: { authorization: `Bearer ${TOKEN_A}` } } }));
    try {
      const r = await client.callTool({ name: 'test_simple_text', arguments: {} });
      expect(r.isError).not.toBe(true);
      expect((r.content as Array<{ type: string }>)[0]?.type).toBe('text');
    } finally {
      await client.close();
    }
  });
});
