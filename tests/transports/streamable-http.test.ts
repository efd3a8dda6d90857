// Streamable HTTP on the wire: every status code of the transport, JSON-RPC framing, sessions
// bound to their identity, SSE ordering and Last-Event-ID replay, against a real stdio server.
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { headers, initBody, openSession, rawPost, readSse, sseReader, startApp, TOKEN_A, TOKEN_A_BOB, TOKEN_B } from './helpers';

let app: FastifyInstance;
let base: string;
let url: string;

beforeAll(async () => {
  ({ app, base } = await startApp({ SATELLITE_BODY_LIMIT_BYTES: '4096', SATELLITE_CORS_ORIGINS: 'http://app.example' }));
  url = `${base}/servers/conf/mcp`;
});
afterAll(() => app.close());

const post = (body: string, h: Record<string, string>) => fetch(url, { method: 'POST', headers: h, body });
const call = (id: unknown, method: string, params: object = {}) => JSON.stringify({ jsonrpc: '2.0', id, method, params });

describe('initialize and sessions', () => {
  it('issues a 256-bit base64url session id and answers with the backend\'s own capabilities', async () => {
    const res = await post(initBody(1, '2025-06-18'), headers());
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/application\/json/);
    const sid = res.headers.get('mcp-session-id')!;
    expect(sid).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const body = (await res.json()) as any;
    expect(body.id).toBe(1);
    expect(body.result.protocolVersion).toBe('2025-06-18');
    expect(body.result.capabilities).toMatchObject({ logging: {}, completions: {}, resources: { subscribe: true } });
    expect(typeof body.result.serverInfo.name).toBe('string');
  });

  it('negotiates: an unsupported requested version gets our latest; 2025-03-26 is echoed', async () => {
    const a = (await (await post(initBody(1, '1999-01-01'), headers())).json()) as any;
    expect(a.result.protocolVersion).toBe('2025-11-25');
    const b = (await (await post(initBody(1, '2025-03-26'), headers())).json()) as any;
    expect(b.result.protocolVersion).toBe('2025-03-26');
  });

  it('answers 400 to a request without a session and 404 to an unknown session', async () => {
    const none = await post(call(2, 'tools/list'), headers());
    expect(none.status).toBe(400);
    expect(((await none.json()) as any).error.message).toMatch(/Mcp-Session-Id/);
    const unknown = await post(call(2, 'tools/list'), headers(TOKEN_A, { 'mcp-session-id': 'no-such-session' }));
    expect(unknown.status).toBe(404);
    expect(((await unknown.json()) as any).error.code).toBe(-32001);
  });

  it('answers 404 to an unknown server slug before any session exists', async () => {
    const before = app.sessions.size;
    const res = await fetch(`${base}/servers/nope/mcp`, { method: 'POST', headers: headers(), body: initBody() });
    expect(res.status).toBe(404);
    expect(app.sessions.size).toBe(before);
    // team-b's server is not team-a's
    const other = await fetch(`${base}/servers/conf-b/mcp`, { method: 'POST', headers: headers(TOKEN_A), body: initBody() });
    expect(other.status).toBe(404);
  });

  it('never serves a session to another team or another user (404), and the owner keeps it', async () => {
    const sid = await openSession(url, TOKEN_A);
    const asB = await post(call(3, 'tools/list'), headers(TOKEN_B, { 'mcp-session-id': sid }));
    expect(asB.status).toBe(404);
    const asBob = await post(call(3, 'tools/list'), headers(TOKEN_A_BOB, { 'mcp-session-id': sid }));
    expect(asBob.status).toBe(404);
    const del = await fetch(url, { method: 'DELETE', headers: headers(TOKEN_B, { 'mcp-session-id': sid }) });
    expect(del.status).toBe(404);
    const own = await post(call(3, 'tools/list'), headers(TOKEN_A, { 'mcp-session-id': sid }));
    expect(own.status).toBe(200);
    expect(((await own.json()) as any).result.tools.length).toBeGreaterThan(5);
  });

  it('a session of one endpoint is unknown on another (404)', async () => {
    const sid = await openSession(url);
    const res = await fetch(`${base}/mcp`, { method: 'POST', headers: headers(TOKEN_A, { 'mcp-session-id': sid }), body: call(1, 'ping') });
    expect(res.status).toBe(404);
  });

  it('DELETE ends the session; the id then gives 404, never a new session', async () => {
    const sid = await openSession(url);
    const del = await fetch(url, { method: 'DELETE', headers: headers(TOKEN_A, { 'mcp-session-id': sid }) });
    expect(del.status).toBe(200);
    const after = await post(call(4, 'tools/list'), headers(TOKEN_A, { 'mcp-session-id': sid }));
    expect(after.status).toBe(404);
    const again = await fetch(url, { method: 'DELETE', headers: headers(TOKEN_A, { 'mcp-session-id': sid }) });
    expect(again.status).toBe(404);
  });

  it('refuses initialize carrying a session id and a second initialize on a session', async () => {
    const sid = await openSession(url);
    const res = await post(initBody(), headers(TOKEN_A, { 'mcp-session-id': sid }));
    expect(res.status).toBe(400);
    expect(((await res.json()) as any).error.code).toBe(-32600);
  });

  it('requires authentication on every method of the endpoint', async () => {
    for (const method of ['POST', 'GET', 'DELETE']) {
      const res = await fetch(url, { method, headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' }, body: method === 'POST' ? initBody() : undefined });
      expect(res.status).toBe(401);
    }
  });
});

describe('HTTP rules', () => {
  it('406 without both media types in Accept, 415 for a non-JSON body, 413 past the body limit', async () => {
    const sid = await openSession(url);
    const a = await post(call(1, 'ping'), headers(TOKEN_A, { accept: 'application/json', 'mcp-session-id': sid }));
    expect(a.status).toBe(406);
    const c = await post(call(1, 'ping'), headers(TOKEN_A, { 'content-type': 'text/plain', 'mcp-session-id': sid }));
    expect(c.status).toBe(415);
    const big = await post(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping', params: { pad: 'x'.repeat(8000) } }), headers(TOKEN_A, { 'mcp-session-id': sid }));
    expect(big.status).toBe(413);
    const body = (await big.json()) as any;
    expect(body.jsonrpc).toBe('2.0');
    expect(body.error.message).toMatch(/too large/);
    const g = await fetch(url, { headers: headers(TOKEN_A, { accept: 'application/json', 'mcp-session-id': sid }) });
    expect(g.status).toBe(406);
  });

  it('400 for an unsupported MCP-Protocol-Version; any supported one is accepted', async () => {
    const sid = await openSession(url);
    const bad = await post(call(1, 'ping'), headers(TOKEN_A, { 'mcp-session-id': sid, 'mcp-protocol-version': '2099-01-01' }));
    expect(bad.status).toBe(400);
    const ok = await post(call(1, 'ping'), headers(TOKEN_A, { 'mcp-session-id': sid, 'mcp-protocol-version': '2025-03-26' }));
    expect(ok.status).toBe(200);
  });

  it('403 for a foreign Origin or Host; the own loopback origin and configured origins pass', async () => {
    const evil = await post(initBody(), headers(TOKEN_A, { origin: 'http://evil.example' }));
    expect(evil.status).toBe(403);
    const evilHost = await rawPost(url, headers(TOKEN_A, { host: 'evil.example.com' }), initBody());
    expect(evilHost.status).toBe(403);
    const otherPort = await rawPost(url, headers(TOKEN_A, { host: '127.0.0.1:1' }), initBody());
    expect(otherPort.status).toBe(403);
    const localhost = await rawPost(url, headers(TOKEN_A, { host: `localhost:${new URL(base).port}` }), initBody());
    expect(localhost.status).toBe(200);
    const own = await post(initBody(), headers(TOKEN_A, { origin: base }));
    expect(own.status).toBe(200);
    const configured = await post(initBody(), headers(TOKEN_A, { origin: 'http://app.example' }));
    expect(configured.status).toBe(200);
    expect(configured.headers.get('access-control-allow-origin')).toBe('http://app.example');
    expect(configured.headers.get('access-control-expose-headers')).toMatch(/Mcp-Session-Id/i);
    // hijacked SSE responses keep the CORS headers
    const sid = configured.headers.get('mcp-session-id')!;
    const ac = new AbortController();
    const stream = await fetch(url, { headers: headers(TOKEN_A, { origin: 'http://app.example', accept: 'text/event-stream', 'mcp-session-id': sid }), signal: ac.signal });
    expect(stream.status).toBe(200);
    expect(stream.headers.get('access-control-allow-origin')).toBe('http://app.example');
    ac.abort();
  });

  it('405 for methods the endpoint does not serve', async () => {
    const res = await fetch(url, { method: 'PUT', headers: headers(), body: '{}' });
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe('GET, POST, DELETE');
  });

  it('answers a CORS preflight for an allowed origin', async () => {
    const res = await fetch(url, { method: 'OPTIONS', headers: { origin: 'http://app.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'mcp-session-id,content-type' } });
    expect(res.status).toBe(204);
    expect(res.headers.get('access-control-allow-origin')).toBe('http://app.example');
  });
});

describe('JSON-RPC', () => {
  it('-32700 with HTTP 400 for unparsable JSON, -32600 for a non-message', async () => {
    const sid = await openSession(url);
    const p = await post('{"jsonrpc": "2.0", ', headers(TOKEN_A, { 'mcp-session-id': sid }));
    expect(p.status).toBe(400);
    expect(await p.json()).toMatchObject({ jsonrpc: '2.0', id: null, error: { code: -32700 } });
    const inv = await post(JSON.stringify({ jsonrpc: '1.0', id: 7, method: 'ping' }), headers(TOKEN_A, { 'mcp-session-id': sid }));
    expect(inv.status).toBe(400);
    expect(await inv.json()).toMatchObject({ id: 7, error: { code: -32600 } });
  });

  it('echoes ids with their type, passes -32601/-32602 from the server through', async () => {
    const sid = await openSession(url);
    const h = headers(TOKEN_A, { 'mcp-session-id': sid });
    const s = (await (await post(call('1', 'ping'), h)).json()) as any;
    expect(s.id).toBe('1');
    const n = (await (await post(call(1, 'ping'), h)).json()) as any;
    expect(n.id).toBe(1);
    const unknown = (await (await post(call('u', 'no/such/method'), h)).json()) as any;
    expect(unknown).toMatchObject({ id: 'u', error: { code: -32601 } });
    const badTool = (await (await post(call(9, 'prompts/get', { name: 'no_such_prompt' }), h)).json()) as any;
    expect(badTool.id).toBe(9);
    expect(badTool.error.code).toBe(-32602);
  });

  it('202 with no body for notifications and for responses', async () => {
    const sid = await openSession(url);
    const h = headers(TOKEN_A, { 'mcp-session-id': sid });
    const n = await post(JSON.stringify({ jsonrpc: '2.0', method: 'notifications/roots/list_changed' }), h);
    expect(n.status).toBe(202);
    expect(await n.text()).toBe('');
    const r = await post(JSON.stringify({ jsonrpc: '2.0', id: 'nobody-asked', result: {} }), h);
    expect(r.status).toBe(202);
  });

  it('refuses batches on 2025-06-18 and later, serves them on 2025-03-26', async () => {
    const modern = await openSession(url, TOKEN_A, '2025-06-18');
    const batch = JSON.stringify([{ jsonrpc: '2.0', id: 1, method: 'ping' }, { jsonrpc: '2.0', id: '2', method: 'tools/list' }]);
    const refused = await post(batch, headers(TOKEN_A, { 'mcp-session-id': modern }));
    expect(refused.status).toBe(400);
    expect(((await refused.json()) as any).error.code).toBe(-32600);

    const old = await openSession(url, TOKEN_A, '2025-03-26');
    const mixed = JSON.stringify([
      { jsonrpc: '2.0', id: 1, method: 'ping' },
      { jsonrpc: '2.0', method: 'notifications/roots/list_changed' },
      { jsonrpc: '2.0', id: '2', method: 'tools/list' },
      { foo: 'bar' }
    ]);
    const res = await post(mixed, headers(TOKEN_A, { 'mcp-session-id': old }));
    expect(res.status).toBe(200);
    const out = (await res.json()) as any[];
    expect(out).toHaveLength(3);
    expect(out.find((r) => r.id === 1)).toMatchObject({ result: {} });
    expect(out.find((r) => r.id === '2').result.tools.length).toBeGreaterThan(5);
    expect(out.find((r) => r.id === null)).toMatchObject({ error: { code: -32600 } });
    const empty = await post('[]', headers(TOKEN_A, { 'mcp-session-id': old }));
    expect(empty.status).toBe(400);
  });
});

describe('SSE responses, the GET stream and resumption', () => {
  it('switches to SSE when progress precedes the result, in order, with unique ids', async () => {
    const sid = await openSession(url);
    const res = await post(call('p1', 'tools/call', { name: 'test_tool_with_progress', arguments: {}, _meta: { progressToken: 'tok-1' } }), headers(TOKEN_A, { 'mcp-session-id': sid }));
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/text\/event-stream/);
    const { events, ended } = await readSse(res);
    expect(ended).toBe(true);
    // A 2025-11-25 session's stream starts with a priming event (id, empty data): see priming.test.ts.
    expect(events[0]).toMatchObject({ id: expect.any(String), data: '' });
    const msgs = events.slice(1).map((e) => JSON.parse(e.data));
    const progress = msgs.filter((m) => m.method === 'notifications/progress');
    expect(progress.map((m) => m.params.progress)).toEqual([0, 50, 100]);
    expect(progress.every((m) => m.params.progressToken === 'tok-1')).toBe(true);
    expect(msgs.at(-1)).toMatchObject({ id: 'p1', result: { content: expect.any(Array) } });
    const ids = events.map((e) => e.id);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('replays a POST stream after Last-Event-ID on GET, only that stream\'s events', async () => {
    const sid = await openSession(url);
    const h = headers(TOKEN_A, { 'mcp-session-id': sid });
    const first = await readSse(await post(call('a', 'tools/call', { name: 'test_tool_with_progress', arguments: {}, _meta: { progressToken: 'x' } }), h));
    const second = await readSse(await post(call('b', 'tools/call', { name: 'test_tool_with_progress', arguments: {}, _meta: { progressToken: 'y' } }), h));
    expect(second.events.length).toBe(5); // priming, 3 progress, result
    const resume = await fetch(url, { headers: headers(TOKEN_A, { 'mcp-session-id': sid, accept: 'text/event-stream', 'last-event-id': first.events[0]!.id! }) });
    expect(resume.status).toBe(200);
    const replay = await readSse(resume);
    expect(replay.ended).toBe(true);
    expect(replay.events.map((e) => e.id)).toEqual(first.events.slice(1).map((e) => e.id));
    expect(JSON.parse(replay.events.at(-1)!.data)).toMatchObject({ id: 'a' });
    const bad = await fetch(url, { headers: headers(TOKEN_A, { 'mcp-session-id': sid, accept: 'text/event-stream', 'last-event-id': 'garbage' }) });
    expect(bad.status).toBe(400);
  });

  it('one GET stream per session (409 for a second), and unrelated notifications arrive on it', async () => {
    const sid = await openSession(url);
    const h = headers(TOKEN_A, { 'mcp-session-id': sid, accept: 'text/event-stream' });
    const ac = new AbortController();
    const stream = await fetch(url, { headers: h, signal: ac.signal });
    expect(stream.status).toBe(200);
    expect(stream.headers.get('content-type')).toMatch(/text\/event-stream/);
    const second = await fetch(url, { headers: h });
    expect(second.status).toBe(409);
    // the fixture's watched resource changes every 3 s: a subscription delivers resources/updated on the GET stream
    const sub = await post(call(5, 'resources/subscribe', { uri: 'test://watched-resource' }), headers(TOKEN_A, { 'mcp-session-id': sid }));
    expect(((await sub.json()) as any).result).toEqual({});
    const got = await readSse(stream, (ev) => ev.some((e) => e.data.includes('notifications/resources/updated')), 5000);
    const updated = got.events.filter((e) => e.data !== '').map((e) => JSON.parse(e.data)).find((m) => m.method === 'notifications/resources/updated');
    expect(updated?.params.uri).toBe('test://watched-resource');
    ac.abort();
  });

  it('DELETE during a call ends its stream at once and frees the request', async () => {
    const sid = await openSession(url, TOKEN_A, '2025-11-25', { sampling: {} });
    const h = headers(TOKEN_A, { 'mcp-session-id': sid });
    const res = await post(call('d1', 'tools/call', { name: 'test_sampling', arguments: { prompt: 'hi' } }), h);
    const sse = sseReader(res);
    await sse.read((ev) => ev.some((e) => e.data.includes('sampling/createMessage')), 5000);
    const del = await fetch(url, { method: 'DELETE', headers: h });
    expect(del.status).toBe(200);
    const { ended } = await sse.read(() => false, 3000);
    expect(ended).toBe(true);
    const after = await post(call(2, 'ping'), h);
    expect(after.status).toBe(404);
  });

  it('cancellation aborts the request: the response is never sent and the stream ends', async () => {
    const sid = await openSession(url, TOKEN_A, '2025-11-25', { sampling: {} });
    const h = headers(TOKEN_A, { 'mcp-session-id': sid });
    const res = await post(call('c1', 'tools/call', { name: 'test_sampling', arguments: { prompt: 'hi' } }), h);
    expect(res.headers.get('content-type')).toMatch(/text\/event-stream/);
    const sse = sseReader(res);
    // wait until the server asks the client for sampling, then cancel the call instead of answering
    const asked = await sse.read((ev) => ev.some((e) => e.data.includes('sampling/createMessage')), 5000);
    expect(asked.events.some((e) => e.data.includes('sampling/createMessage'))).toBe(true);
    const n = await post(JSON.stringify({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 'c1', reason: 'test' } }), h);
    expect(n.status).toBe(202);
    const { events, ended } = await sse.read(() => false, 5000);
    expect(ended).toBe(true);
    const msgs = events.filter((e) => e.data !== '').map((e) => JSON.parse(e.data));
    expect(msgs.some((m) => m.id === 'c1' && ('result' in m || 'error' in m))).toBe(false);
    // resuming the finished stream yields nothing more: 204, so clients stop reconnecting
    const resume = await fetch(url, { headers: headers(TOKEN_A, { 'mcp-session-id': sid, accept: 'text/event-stream', 'last-event-id': events.at(-1)!.id! }) });
    expect(resume.status).toBe(204);
    // the session still works
    const ping = await post(call(2, 'ping'), h);
    expect(((await ping.json()) as any).result).toEqual({});
  });
});
