// 2025-11-25 SSE priming (SEP-1699): streams of sessions negotiated at 2025-11-25 start with an
// event id, empty data and `retry:`; older sessions never see an empty event.
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { headers, openSession, startApp } from './helpers';

let app: FastifyInstance;
let base: string;
beforeAll(async () => {
  ({ app, base } = await startApp());
});
afterAll(() => app.close());

interface RawEvent { id?: string; retry?: string; data: string }

/** Every SSE block of a finished body, with its retry field (which sseReader drops). */
function parseBlocks(text: string): RawEvent[] {
  return text.split('\n\n').filter((b) => b.trim() && !b.startsWith(':')).map((block) => {
    const ev: RawEvent = { data: '' };
    for (const line of block.split('\n')) {
      const i = line.indexOf(':');
      const k = line.slice(0, i);
      const v = line.slice(i + 1).replace(/^ /, '');
      if (k === 'id') ev.id = v;
      else if (k === 'retry') ev.retry = v;
      else if (k === 'data') ev.data += v;
    }
    return ev;
  });
}

const url = () => `${base}/servers/conf/mcp`;
const callWithProgress = (sid: string, version: string) => fetch(url(), {
  method: 'POST',
  headers: headers(undefined, { 'mcp-session-id': sid, 'mcp-protocol-version': version }),
  body: JSON.stringify({ jsonrpc: '2.0', id: 7, method: 'tools/call', params: { name: 'test_tool_with_progress', arguments: {}, _meta: { progressToken: 'p' } } })
});

describe('SSE priming events', () => {
  it('primes a 2025-11-25 POST stream, and resuming from the priming id replays the whole stream', async () => {
    const sid = await openSession(url(), undefined, '2025-11-25');
    const res = await callWithProgress(sid, '2025-11-25');
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    const events = parseBlocks(await res.text());
    expect(events[0]).toEqual({ id: expect.stringMatching(/^\d+-\d+$/), retry: '1000', data: '' });
    const rest = events.slice(1);
    expect(rest.length).toBeGreaterThanOrEqual(2);
    expect(rest.every((e) => e.data !== '' && e.retry === undefined)).toBe(true);
    expect(JSON.parse(rest.at(-1)!.data)).toMatchObject({ id: 7, result: expect.any(Object) });

    // A client cut right after the priming event gets everything that followed it.
    const resumed = await fetch(url(), { headers: headers(undefined, { 'mcp-session-id': sid, 'mcp-protocol-version': '2025-11-25', accept: 'text/event-stream', 'last-event-id': events[0]!.id! }) });
    expect(resumed.status).toBe(200);
    const replay = parseBlocks(await resumed.text());
    expect(replay.map((e) => e.data)).toEqual(rest.map((e) => e.data));
  });

  it('primes the GET stream of a 2025-11-25 session first', async () => {
    const sid = await openSession(url(), undefined, '2025-11-25');
    const ac = new AbortController();
    const res = await fetch(url(), { headers: headers(undefined, { 'mcp-session-id': sid, 'mcp-protocol-version': '2025-11-25', accept: 'text/event-stream' }), signal: ac.signal });
    const reader = res.body!.getReader();
    let text = '';
    for (let i = 0; i < 20 && !text.includes('\n\n'); i++) text += new TextDecoder().decode((await reader.read()).value);
    ac.abort();
    expect(parseBlocks(text)[0]).toEqual({ id: expect.stringMatching(/^0-\d+$/), retry: '1000', data: '' });
  });

  it('never sends an empty event to a 2025-06-18 session', async () => {
    const sid = await openSession(url(), undefined, '2025-06-18');
    const res = await callWithProgress(sid, '2025-06-18');
    const raw = await res.text();
    const events = parseBlocks(raw);
    expect(events.length).toBeGreaterThanOrEqual(2);
    expect(events.every((e) => e.data !== '')).toBe(true);
    expect(raw).not.toContain('retry:');
  });
});
