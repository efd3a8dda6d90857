// The session store through the app: caps (503), idle expiry, connect/disconnect events,
// SSE keep-alives, and shutdown with streams open.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import type { SessionEndInfo, SessionInfo } from '../../src/transports/session-store';
import { headers, initBody, openSession, sseReader, startApp, TOKEN_A, TOKEN_A_BOB, TOKEN_B } from './helpers';

describe('session limits, expiry and events', () => {
  let app: FastifyInstance;
  let url: string;
  beforeAll(async () => {
    const started = await startApp({ MCP_MAX_SESSIONS_PER_TEAM: '2', MCP_MAX_SESSIONS: '3', MCP_SSE_KEEPALIVE_SECONDS: '1', MCP_SESSION_IDLE_TIMEOUT_SECONDS: '60' });
    app = started.app;
    url = `${started.base}/servers/conf/mcp`;
  });
  afterAll(() => app.close());

  it('caps sessions per team and in total with 503 and Retry-After; expiry frees the slots', async () => {
    const connected: SessionInfo[] = [];
    const gone: SessionEndInfo[] = [];
    app.sessions.on('connect', (s) => connected.push(s));
    app.sessions.on('disconnect', (s) => gone.push(s));

    const a1 = await openSession(url, TOKEN_A);
    await openSession(url, TOKEN_A_BOB);
    const full = await fetch(url, { method: 'POST', headers: headers(TOKEN_A), body: initBody() });
    expect(full.status).toBe(503);
    expect(Number(full.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(((await full.json()) as any).error.message).toMatch(/team/);

    await openSession(`${url.replace('/conf/', '/conf-b/')}`, TOKEN_B);
    const total = await fetch(url.replace('/conf/', '/conf-b/'), { method: 'POST', headers: headers(TOKEN_B), body: initBody() });
    expect(total.status).toBe(503);

    expect(connected.map((c) => c.teamId)).toEqual(['team-a', 'team-a', 'team-b']);
    expect(connected[0]).toMatchObject({
      sessionId: a1, userId: 'alice', transport: 'streamable-http', target: { kind: 'server', serverSlug: 'conf' },
      protocolVersion: '2025-11-25', clientName: 'wire-test', clientVersion: '1', ipAddress: '127.0.0.1'
    });
    const toolCall = await fetch(url, { method: 'POST', headers: headers(TOKEN_A, { 'mcp-session-id': a1 }), body: '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"test_simple_text","arguments":{}}}' });
    expect(toolCall.status).toBe(200);

    // the job system runs the sweep; nothing expires before the idle timeout, everything idle after it
    expect(app.jobs.has('session-sweep')).toBe(true);
    expect(app.sessions.sweep(Date.now() + 30_000)).toBe(0);
    expect(app.sessions.sweep(Date.now() + 61_000)).toBe(3);
    expect(app.sessions.size).toBe(0);
    expect(gone.map((g) => g.reason)).toEqual(['idle timeout', 'idle timeout', 'idle timeout']);
    expect(gone.find((g) => g.sessionId === a1)).toMatchObject({ toolCallCount: 1, requestCount: 1, clientName: 'wire-test' });
    const expired = await fetch(url, { method: 'POST', headers: headers(TOKEN_A, { 'mcp-session-id': a1 }), body: '{"jsonrpc":"2.0","id":1,"method":"ping"}' });
    expect(expired.status).toBe(404);
    const again = await fetch(url, { method: 'POST', headers: headers(TOKEN_A), body: initBody() });
    expect(again.status).toBe(200);
  });

  it('keeps open streams alive with SSE comments, and a session with an open stream does not expire', async () => {
    const sid = await openSession(url, TOKEN_A_BOB);
    const res = await fetch(url, { headers: headers(TOKEN_A_BOB, { 'mcp-session-id': sid, accept: 'text/event-stream' }) });
    expect(res.status).toBe(200);
    const sse = sseReader(res);
    const got = await sse.read((_ev) => false, 2500);
    expect(got.comments.some((c) => c.startsWith(': keepalive'))).toBe(true);
    app.sessions.sweep(Date.now() + 120_000);
    const alive = await fetch(url, { method: 'POST', headers: headers(TOKEN_A_BOB, { 'mcp-session-id': sid }), body: '{"jsonrpc":"2.0","id":1,"method":"ping"}' });
    expect(alive.status).toBe(200);
    await sse.cancel();
  });
});

describe('shutdown', () => {
  it('app.close() ends open SSE streams and sessions instead of hanging', async () => {
    const { app, base } = await startApp();
    const url = `${base}/servers/conf/mcp`;
    const sid = await openSession(url);
    const res = await fetch(url, { headers: headers(TOKEN_A, { 'mcp-session-id': sid, accept: 'text/event-stream' }) });
    const legacy = await fetch(`${base}/servers/conf/sse`, { headers: { authorization: `Bearer ${TOKEN_A}`, accept: 'text/event-stream' } });
    const reasons: string[] = [];
    app.sessions.on('disconnect', (s) => reasons.push(s.reason));
    const streamA = sseReader(res);
    const streamB = sseReader(legacy);
    await app.close();
    expect((await streamA.read(() => false, 3000)).ended).toBe(true);
    expect((await streamB.read(() => false, 3000)).ended).toBe(true);
    expect(app.sessions.size).toBe(0);
    expect(reasons).toContain('shutdown');
  });
});
