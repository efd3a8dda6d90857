// Slow clients (slowloris): headers or a body trickled byte by byte on POST /mcp and GET /sse.
// The satellite cuts them at HTTP_REQUEST_TIMEOUT_MS and stays responsive to everyone else; a
// long tool call and an open SSE stream, which are answers and not requests, are not cut.
import { connect, type Socket } from 'node:net';
import { resolve } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { headers, openSession, readSse, server, startApp, TOKEN_A } from '../transports/helpers';

const SLOW = resolve(__dirname, '../ops/fixtures/slow-server.mjs');
const TIMEOUT_MS = 1000;

let app: FastifyInstance;
let base: string;
let port: number;
const sockets: Socket[] = [];

beforeAll(async () => {
  ({ app, base } = await startApp({ HTTP_REQUEST_TIMEOUT_MS: String(TIMEOUT_MS) }, { slow: server('team-a', 'slow', [SLOW]) }));
  port = Number(new URL(base).port);
});
afterAll(async () => {
  for (const s of sockets) s.destroy();
  await app.close();
});

interface Trickle { closedAfterMs: Promise<number>; received: () => string; socket: Socket }
/** Sends `text` one byte every `everyMs`, for at most `maxMs`; reports when the server closes the socket. */
function trickle(text: string, everyMs: number, maxMs: number): Trickle {
  const socket = connect(port, '127.0.0.1');
  sockets.push(socket);
  let received = '';
  const t0 = Date.now();
  let i = 0;
  const timer = setInterval(() => {
    if (i >= text.length || Date.now() - t0 > maxMs || socket.destroyed) return clearInterval(timer);
    socket.write(text[i++]!);
  }, everyMs);
  socket.setEncoding('utf8');
  socket.on('data', (d: string) => { received += d; });
  socket.on('error', () => undefined);
  const closedAfterMs = new Promise<number>((r) => socket.on('close', () => { clearInterval(timer); r(Date.now() - t0); }));
  return { closedAfterMs, received: () => received, socket };
}

const bounded = <T>(p: Promise<T>, ms: number, what: string) =>
  Promise.race([p, new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms))]);

async function ping(): Promise<number> {
  const sid = await openSession(`${base}/servers/conf/mcp`);
  const res = await fetch(`${base}/servers/conf/mcp`, { method: 'POST', headers: headers(TOKEN_A, { 'mcp-session-id': sid }), body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping' }) });
  await res.text();
  return res.status;
}

describe('slow clients', () => {
  it('headers trickled on POST /mcp and GET /sse are cut at the request timeout; others are served meanwhile', async () => {
    const host = `Host: 127.0.0.1:${port}\r\n`;
    const post = `POST /servers/conf/mcp HTTP/1.1\r\n${host}Authorization: Bearer ${TOKEN_A}\r\nContent-Type: application/json\r\nX-Pad: ${'p'.repeat(400)}\r\n\r\n`;
    const sse = `GET /sse HTTP/1.1\r\n${host}Authorization: Bearer ${TOKEN_A}\r\nAccept: text/event-stream\r\nX-Pad: ${'p'.repeat(400)}\r\n\r\n`;
    // 20 slow connections, each would need 40+ s to finish its headers.
    const slow = Array.from({ length: 20 }, (_, i) => trickle(i % 2 ? sse : post, 100, 20_000));
    // While they trickle, a normal client is served.
    await new Promise((r) => setTimeout(r, 300));
    expect(await bounded(ping(), 5_000, 'ping during the trickle')).toBe(200);
    // Cut well before the 40 s their headers would take (the timeout is checked once a second).
    await bounded(Promise.all(slow.map((s) => s.closedAfterMs)), 8_000, 'slow connections to be cut');
    for (const s of slow) expect(s.received()).not.toMatch(/^HTTP\/1\.1 200/);
  });

  it('a body trickled after complete headers gets 408 at the request timeout', async () => {
    const body = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping', params: { pad: 'x'.repeat(200) } });
    const head = `POST /servers/conf/mcp HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nAuthorization: Bearer ${TOKEN_A}\r\nContent-Type: application/json\r\nAccept: application/json, text/event-stream\r\nContent-Length: ${body.length}\r\n\r\n`;
    const socket = connect(port, '127.0.0.1');
    sockets.push(socket);
    socket.write(head);
    const t = trickle('', 100, 0); // a second, idle connection that never sends a byte
    let received = '';
    socket.setEncoding('utf8');
    socket.on('data', (d: string) => { received += d; });
    socket.on('error', () => undefined);
    let i = 0;
    const timer = setInterval(() => { if (i < body.length && !socket.destroyed) socket.write(body[i++]!); }, 100);
    try {
      await bounded(new Promise((r) => socket.on('close', r)), 8_000, 'the trickled body to be cut');
    } finally {
      clearInterval(timer);
    }
    expect(received).toMatch(/^HTTP\/1\.1 408 /);
    expect(i).toBeLessThan(body.length);
    // A connection that never sends anything is closed too.
    await bounded(t.closedAfterMs, 8_000, 'the idle connection to be cut');
    expect(await ping()).toBe(200);
  });

  it('answers and streams are not requests: a tool call and an SSE stream outlive the request timeout', async () => {
    const sid = await openSession(`${base}/servers/slow/mcp`);
    const call = await fetch(`${base}/servers/slow/mcp`, {
      method: 'POST', headers: headers(TOKEN_A, { 'mcp-session-id': sid }),
      body: JSON.stringify({ jsonrpc: '2.0', id: 9, method: 'tools/call', params: { name: 'slow', arguments: { ms: TIMEOUT_MS * 2 } } })
    });
    expect(call.status).toBe(200);
    expect(await call.text()).toContain(`done after ${TIMEOUT_MS * 2} ms`);

    const sse = await fetch(`${base}/servers/conf/sse`, { headers: { authorization: `Bearer ${TOKEN_A}`, accept: 'text/event-stream' } });
    expect(sse.status).toBe(200);
    // Read for twice the request timeout: the stream must still be open afterwards.
    const r = await readSse(sse, () => false, TIMEOUT_MS * 2);
    expect(r.events[0]?.event).toBe('endpoint');
    expect(r.ended).toBe(false);
  });
});
