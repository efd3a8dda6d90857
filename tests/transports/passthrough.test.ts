// The per-server pass-through: a backend that cannot start fails initialize without leaving a
// session; resource subscriptions are ref-counted across the sessions sharing one backend.
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { headers, initBody, openSession, server, sseReader, startApp, TOKEN_A, TOKEN_A_BOB } from './helpers';

let app: FastifyInstance;
let base: string;
beforeAll(async () => {
  ({ app, base } = await startApp({}, { broken: server('team-a', 'broken', ['-e', 'process.exit(3)']) }));
});
afterAll(() => app.close());

describe('pass-through handler', () => {
  it('a backend that cannot start answers initialize with an error and no session id', async () => {
    const before = app.sessions.size;
    const res = await fetch(`${base}/servers/broken/mcp`, { method: 'POST', headers: headers(), body: initBody(5) });
    expect(res.status).toBe(200);
    expect(res.headers.get('mcp-session-id')).toBeNull();
    const body = (await res.json()) as any;
    expect(body.id).toBe(5);
    expect(typeof body.error.code).toBe('number');
    expect(app.sessions.size).toBe(before);
  });

  it('keeps the backend subscription until the last subscribed session leaves, and delivers updates only to subscribers', async () => {
    const url = `${base}/servers/conf/mcp`;
    const s1 = await openSession(url, TOKEN_A);
    const s2 = await openSession(url, TOKEN_A_BOB);
    const s3 = await openSession(url, TOKEN_A);
    const stream = (sid: string, token: string) => fetch(url, { headers: headers(token, { 'mcp-session-id': sid, accept: 'text/event-stream' }) });
    const [g1, g2, g3] = await Promise.all([stream(s1, TOKEN_A), stream(s2, TOKEN_A_BOB), stream(s3, TOKEN_A)]);
    const rpc = (sid: string, token: string, method: string) => fetch(url, {
      method: 'POST', headers: headers(token, { 'mcp-session-id': sid }),
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params: { uri: 'test://watched-resource' } })
    }).then((r) => r.json() as Promise<any>);
    expect((await rpc(s1, TOKEN_A, 'resources/subscribe')).result).toEqual({});
    expect((await rpc(s2, TOKEN_A_BOB, 'resources/subscribe')).result).toEqual({});
    expect((await rpc(s1, TOKEN_A, 'resources/unsubscribe')).result).toEqual({});
    // s2 still subscribed: the backend must still send updates (it changes every 3 s)
    const r2 = sseReader(g2!);
    const got = await r2.read((ev) => ev.some((e) => e.data.includes('resources/updated')), 4500);
    expect(got.events.some((e) => e.data.includes('test://watched-resource'))).toBe(true);
    const r1 = sseReader(g1!);
    const r3 = sseReader(g3!);
    const [none1, none3] = await Promise.all([r1.read(() => false, 100), r3.read(() => false, 100)]);
    expect(none1.events.some((e) => e.data.includes('resources/updated'))).toBe(false);
    expect(none3.events.some((e) => e.data.includes('resources/updated'))).toBe(false);
    await Promise.all([r1.cancel(), r2.cancel(), r3.cancel()]);
  });
});
