import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { McpServerConfig } from '../../src/config/server-config';
import { JsonRpcError, type JsonRpcNotification } from '../../src/mcp/jsonrpc';
import { createRemoteUpstream, type RemoteUpstream } from '../../src/servers/remote';
import { SseParser } from '../../src/servers/remote/sse-parser';
import { startMcpHttpServer, type TestMcpServer } from './helpers/mcp-http-server';

const log = pino({ level: 'silent' });

function remoteConfig(slug: string, url: string, extra: Partial<McpServerConfig> = {}): McpServerConfig {
  return {
    installation_id: `inst-${slug}`, team_id: 'team-a', team_slug: 'alpha', server_slug: slug,
    installation_name: slug, transport_type: 'http', url, enabled: true, ...extra
  };
}

function text(result: Record<string, unknown>): string {
  return ((result.content as { text: string }[])[0]!).text;
}

async function until(check: () => boolean, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Calls echo until the server answers (bounded): a failed server is retried at most once a second. */
async function echoUntilBack(up: RemoteUpstream): Promise<Record<string, unknown>> {
  const end = Date.now() + 5000;
  for (;;) {
    const result = await up.request('tools/call', { name: 'echo', arguments: { text: 'back' } }).catch((e: Error) => e);
    if (!(result instanceof Error)) return result;
    if (Date.now() > end) throw result;
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe('remote upstream over Streamable HTTP', () => {
  let a: TestMcpServer;
  let b: TestMcpServer;
  let upA: RemoteUpstream;
  let upB: RemoteUpstream;
  beforeAll(async () => {
    a = await startMcpHttpServer({ name: 'alpha' });
    b = await startMcpHttpServer({ name: 'beta' });
    upA = createRemoteUpstream(remoteConfig('a', a.url, { headers: { Authorization: 'Bearer secret-a' }, url_query_params: { key: 'qa' } }), { log, defaultTimeoutMs: 5000 });
    upB = createRemoteUpstream(remoteConfig('b', b.url, { headers: { Authorization: 'Bearer secret-b' } }), { log, defaultTimeoutMs: 5000 });
  });
  afterAll(async () => {
    await upA.close();
    await upB.close();
    await a.stop();
    await b.stop();
  });

  it('initializes, lists and calls', async () => {
    await upA.ensureReady();
    expect(upA.status).toBe('online');
    expect((upA.initializeResult?.serverInfo as { name: string }).name).toBe('alpha');
    const list = await upA.request('tools/list', {});
    expect((list.tools as { name: string }[]).map((t) => t.name)).toContain('echo');
    const r = await upA.request('tools/call', { name: 'echo', arguments: { text: 'hi' } });
    expect(text(r)).toBe('alpha:hi');
    expect(r.structuredContent).toEqual({ server: 'alpha', text: 'hi' });
    const posts = a.seen.filter((s) => s.method === 'POST');
    expect(posts[0]!.sessionId).toBeUndefined();
    expect(posts.at(-1)!.sessionId).toMatch(/[0-9a-f-]{36}/);
    expect(posts.at(-1)!.protocolVersion).toBe('2025-11-25');
  });

  it('sends each server only its own headers and query parameters, concurrently', async () => {
    const calls = [];
    for (let i = 0; i < 10; i++) {
      calls.push(upA.request('tools/call', { name: 'whoami', arguments: {} }));
      calls.push(upB.request('tools/call', { name: 'whoami', arguments: {} }));
    }
    const results = (await Promise.all(calls)).map((r) => JSON.parse(text(r)) as { server: string; authorization: string; url: string });
    for (const r of results) expect(r.authorization).toBe(r.server === 'alpha' ? 'Bearer secret-a' : 'Bearer secret-b');
    expect(a.seen.every((s) => s.authorization === 'Bearer secret-a' && s.url.includes('key=qa'))).toBe(true);
    expect(b.seen.every((s) => s.authorization === 'Bearer secret-b' && !s.url.includes('key='))).toBe(true);
    // Nothing leaked into the process-wide fetch.
    const before = b.seen.length;
    await fetch(b.url, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' }, body: '{}' }).catch(() => undefined);
    expect(b.seen[before]!.authorization).toBeUndefined();
  });

  it('routes progress (with the caller token restored) and logging to the call', async () => {
    const got: JsonRpcNotification[] = [];
    const r = await upA.request('tools/call', { name: 'progress', arguments: {}, _meta: { progressToken: 'client-token-7' } }, { onNotification: (n) => got.push(n) });
    expect(text(r)).toBe('done');
    const progress = got.filter((n) => n.method === 'notifications/progress');
    expect(progress.map((n) => n.params?.progress)).toEqual([1, 2, 3]);
    expect(progress.every((n) => n.params?.progressToken === 'client-token-7')).toBe(true);
    expect(got.some((n) => n.method === 'notifications/message')).toBe(true);
  });

  it('resumes an answer stream the server closed early (Last-Event-ID)', async () => {
    const got: JsonRpcNotification[] = [];
    const r = await upA.request('tools/call', { name: 'polled', arguments: {}, _meta: { progressToken: 'p' } }, { onNotification: (n) => got.push(n) });
    expect(text(r)).toBe('polled done');
    expect(got.map((n) => n.params?.progress)).toEqual([1, 2]);
    expect(a.seen.some((s) => s.method === 'GET' && s.lastEventId !== undefined)).toBe(true);
  });

  it('passes server→client requests of a call to its onRequest', async () => {
    const asked: string[] = [];
    const r = await upA.request('tools/call', { name: 'ask', arguments: {} }, {
      onRequest: async (method) => {
        asked.push(method);
        return { role: 'assistant', content: { type: 'text', text: 'yes' }, model: 'test-model' };
      }
    });
    expect(asked).toEqual(['sampling/createMessage']);
    expect(text(r)).toBe('client said: yes');
  });

  it('times out with a JSON-RPC error and stays usable', async () => {
    const err = await upA.request('tools/call', { name: 'slow', arguments: { ms: 3000 } }, { timeoutMs: 200 }).catch((e) => e);
    expect(err).toBeInstanceOf(JsonRpcError);
    expect((err as JsonRpcError).code).toBe(-32001);
    expect((err as Error).message).toContain("'a' did not answer within 200 ms");
    expect(text(await upA.request('tools/call', { name: 'echo', arguments: { text: 'after' } }))).toBe('alpha:after');
  });

  it('cancels a call when the caller aborts', async () => {
    const ac = new AbortController();
    const p = upA.request('tools/call', { name: 'slow', arguments: { ms: 3000 } }, { signal: ac.signal });
    setTimeout(() => ac.abort(), 50);
    await expect(p).rejects.toBeInstanceOf(JsonRpcError);
    await until(() => a.seen.some((s) => s.method === 'POST'));
  });

  it('delivers list_changed from the server stream to listeners', async () => {
    const got: string[] = [];
    const off = upA.addListener({ onNotification: (n) => got.push(n.method) });
    await until(() => a.seen.some((s) => s.method === 'GET'));
    await new Promise((r) => setTimeout(r, 50));
    await a.toolsChanged();
    await until(() => got.includes('notifications/tools/list_changed'));
    off();
  });

  it('re-initializes when the server forgets the session (404) and recovers', async () => {
    const statuses: string[] = [];
    const off = upA.addListener({ onStatus: (s) => statuses.push(s) });
    await a.stop();
    await a.start();
    const initsBefore = a.seen.filter((s) => s.method === 'POST' && !s.sessionId).length;
    const r = await upA.request('tools/call', { name: 'echo', arguments: { text: 'again' } });
    expect(text(r)).toBe('alpha:again');
    expect(a.seen.filter((s) => s.method === 'POST' && !s.sessionId).length).toBe(initsBefore + 1);
    expect(statuses).toContain('online');
    expect(upA.status).toBe('online');
    off();
  });

  it('reports a down server clearly, then recovers when it is back', async () => {
    await b.stop();
    const err = await upB.request('tools/call', { name: 'echo', arguments: { text: 'x' } }).catch((e) => e);
    expect(err).toBeInstanceOf(JsonRpcError);
    expect((err as Error).message).toMatch(/^Server 'b' is unreachable \((ECONNREFUSED|UND_ERR_SOCKET|ECONNRESET): [a-z ]+\); it may be down/);
    expect(upB.status).toBe('error');
    expect(upB.lastError).toMatch(/unreachable/);
    await b.start();
    expect(text(await echoUntilBack(upB))).toBe('beta:back');
    expect(upB.status).toBe('online');
  });

  it('notices an idle server going down and comes back online by itself', async () => {
    const statuses: string[] = [];
    const off = upB.addListener({ onStatus: (st) => statuses.push(st) });
    await until(() => b.seen.some((r) => r.method === 'GET' && r.sessionId !== undefined));
    await b.stop();
    await until(() => upB.status === 'error', 5000);
    await b.start();
    await until(() => upB.status === 'online', 8000);
    expect(statuses).toEqual(expect.arrayContaining(['error', 'online']));
    off();
  });

  it('ends the session with DELETE on close', async () => {
    const up = createRemoteUpstream(remoteConfig('c', b.url), { log, defaultTimeoutMs: 5000 });
    await up.ensureReady();
    const sessions = b.sessionCount;
    await up.close();
    expect(up.status).toBe('stopped');
    expect(b.seen.at(-1)!.method).toBe('DELETE');
    await until(() => b.sessionCount === sessions - 1);
    await expect(up.request('tools/list', {})).rejects.toThrow(/stopped/);
  });
});

describe('remote upstream errors', () => {
  it('describes an HTTP error answer', async () => {
    const http = createServer((_req, res) => void res.writeHead(500).end('boom'));
    await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(http.address() as AddressInfo).port}/mcp`;
    const up = createRemoteUpstream(remoteConfig('broken', url), { log, defaultTimeoutMs: 2000 });
    try {
      await expect(up.ensureReady()).rejects.toThrow("Server 'broken' answered HTTP 500: boom.");
      expect(up.status).toBe('error');
    } finally {
      await up.close();
      await new Promise((r) => http.close(r));
    }
  });

  it('reports 401 as a credentials problem', async () => {
    const http = createServer((_req, res) => void res.writeHead(401).end());
    await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(http.address() as AddressInfo).port}/mcp`;
    const up = createRemoteUpstream(remoteConfig('locked', url), { log, defaultTimeoutMs: 2000 });
    try {
      await expect(up.ensureReady()).rejects.toThrow(/rejected the satellite's credentials \(HTTP 401\)/);
    } finally {
      await up.close();
      await new Promise((r) => http.close(r));
    }
  });
});

describe('remote upstream over legacy HTTP+SSE', () => {
  let s: TestMcpServer;
  let up: RemoteUpstream;
  beforeAll(async () => {
    s = await startMcpHttpServer({ name: 'legacy', mode: 'sse' });
    up = createRemoteUpstream(remoteConfig('old', s.url, { transport_type: 'sse', headers: { Authorization: 'Bearer old' }, url_query_params: { api_key: 'k1' } }), { log, defaultTimeoutMs: 5000 });
  });
  afterAll(async () => {
    await up.close();
    await s.stop();
  });

  it('connects through the endpoint event, lists and calls with its headers', async () => {
    const list = await up.request('tools/list', {});
    expect((list.tools as unknown[]).length).toBeGreaterThan(3);
    expect(text(await up.request('tools/call', { name: 'echo', arguments: { text: 'sse' } }))).toBe('legacy:sse');
    expect(s.seen.every((r) => r.authorization === 'Bearer old')).toBe(true);
    expect(s.seen.some((r) => r.method === 'POST' && r.url.startsWith('/messages?sessionId='))).toBe(true);
    expect(s.seen.every((r) => r.url.includes('api_key=k1'))).toBe(true);
  });

  it('routes progress and sampling of the single call in flight', async () => {
    const got: JsonRpcNotification[] = [];
    await up.request('tools/call', { name: 'progress', arguments: {}, _meta: { progressToken: 3 } }, { onNotification: (n) => got.push(n) });
    expect(got.filter((n) => n.method === 'notifications/progress').map((n) => n.params?.progressToken)).toEqual([3, 3, 3]);
    const r = await up.request('tools/call', { name: 'ask', arguments: {} }, {
      onRequest: async () => ({ role: 'assistant', content: { type: 'text', text: 'ok' }, model: 'm' })
    });
    expect(text(r)).toBe('client said: ok');
  });

  it('reconnects after the server restarts', async () => {
    await s.stop();
    await until(() => up.status === 'error');
    await s.start();
    expect(text(await echoUntilBack(up))).toBe('legacy:back');
  });
});

describe('SSE parsing', () => {
  it('parses fields, multi-line data, CRLF split across chunks, comments and ids', () => {
    const events: Array<{ event: string; data: string; id?: string }> = [];
    const p = new SseParser((e) => events.push(e));
    p.push(': keep-alive\r\nevent: endpoint\r');
    p.push('\ndata: /messages?sessionId=1\r\n\r\nid: 7\ndata: {"a":\ndata: 1}\n\n');
    p.push('retry: 1500\n\n');
    expect(events).toEqual([{ event: 'endpoint', data: '/messages?sessionId=1' }, { event: 'message', data: '{"a":\n1}', id: '7' }]);
    expect(p.lastEventId).toBe('7');
    expect(p.retryMs).toBe(1500);
  });

  it('refuses an event that never ends beyond its bound', () => {
    const p = new SseParser(() => undefined, 1024);
    expect(() => {
      for (let i = 0; i < 100; i++) p.push('data: ' + 'x'.repeat(100) + '\n');
    }).toThrow(/larger than 1024 bytes/);
  });
});
