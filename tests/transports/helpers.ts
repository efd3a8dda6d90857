// Shared by the transport tests: a satellite with two teams, tokens and the conformance fixture
// as a real stdio server, plus raw-HTTP helpers (POST JSON-RPC, read SSE events).
import { request } from 'node:http';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/app';
import { FIXTURE } from '../conformance/harness';
import { testConfig } from '../helpers/config';

export const TOKEN_A = 'token-team-a-alice-0123456789abcdef';
export const TOKEN_A_BOB = 'token-team-a-bob-0123456789abcdef';
export const TOKEN_B = 'token-team-b-carol-0123456789abcdef';
export const ACCEPT_BOTH = 'application/json, text/event-stream';

export const server = (team: string, slug: string, args: string[] = [FIXTURE]) => ({
  installation_id: `inst-${team}`, team_id: team, team_slug: team, server_slug: slug,
  installation_name: `${team}-${slug}`, transport_type: 'stdio' as const, command: 'node', args, enabled: true
});

export interface TokenGrantSpec { team_id: string; user_id?: string; scopes?: string[] }

export async function startApp(env: Record<string, string> = {}, extraServers: Record<string, ReturnType<typeof server>> = {}, extraTokens: Record<string, TokenGrantSpec> = {}): Promise<{ app: FastifyInstance; base: string }> {
  const app = await buildApp(testConfig(env, {
    teams: { 'team-a': { slug: 'team-a' }, 'team-b': { slug: 'team-b' } },
    tokens: {
      [TOKEN_A]: { team_id: 'team-a', user_id: 'alice', scopes: ['mcp:read', 'mcp:tools:execute'] },
      [TOKEN_A_BOB]: { team_id: 'team-a', user_id: 'bob', scopes: ['mcp:read', 'mcp:tools:execute'] },
      [TOKEN_B]: { team_id: 'team-b', user_id: 'carol', scopes: ['mcp:read', 'mcp:tools:execute'] },
      ...extraTokens
    },
    mcp_servers: { a: server('team-a', 'conf'), b: server('team-b', 'conf-b'), ...extraServers }
  }));
  const base = await app.listen({ port: 0, host: '127.0.0.1' });
  return { app, base };
}

export function headers(token = TOKEN_A, extra: Record<string, string> = {}): Record<string, string> {
  return { authorization: `Bearer ${token}`, 'content-type': 'application/json', accept: ACCEPT_BOTH, ...extra };
}

export function initBody(id: string | number = 1, protocolVersion = '2025-11-25', capabilities: object = {}): string {
  return JSON.stringify({ jsonrpc: '2.0', id, method: 'initialize', params: { protocolVersion, capabilities, clientInfo: { name: 'wire-test', version: '1' } } });
}

/** Initializes a session on `url` (and sends notifications/initialized); returns its id. */
export async function openSession(url: string, token = TOKEN_A, protocolVersion = '2025-11-25', capabilities: object = {}): Promise<string> {
  const res = await fetch(url, { method: 'POST', headers: headers(token), body: initBody(1, protocolVersion, capabilities) });
  if (res.status !== 200) throw new Error(`initialize failed: ${res.status} ${await res.text()}`);
  const sid = res.headers.get('mcp-session-id');
  if (sid === null) throw new Error('no session id');
  await res.text();
  const n = await fetch(url, { method: 'POST', headers: headers(token, { 'mcp-session-id': sid }), body: JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }) });
  await n.text();
  return sid;
}

export interface SseEvent { id?: string; event: string; data: string }

/** Incremental SSE reader: `read` collects events until `stop` holds, the stream ends, or the time is up. */
export function sseReader(res: Response) {
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  const events: SseEvent[] = [];
  const comments: string[] = [];
  let buf = '';
  let ended = false;
  async function read(stop: (events: SseEvent[]) => boolean = () => false, timeoutMs = 5000): Promise<{ events: SseEvent[]; ended: boolean; comments: string[] }> {
    const deadline = Date.now() + timeoutMs;
    while (!ended && !stop(events)) {
      const left = deadline - Date.now();
      if (left <= 0) break;
      let timer: NodeJS.Timeout | undefined;
      const chunk = await Promise.race([
        reader.read(),
        new Promise<'timeout'>((r) => { timer = setTimeout(() => r('timeout'), left); })
      ]);
      clearTimeout(timer);
      if (chunk === 'timeout') break;
      if (chunk.done) { ended = true; break; }
      buf += decoder.decode(chunk.value, { stream: true });
      let i: number;
      while ((i = buf.indexOf('\n\n')) >= 0) {
        const block = buf.slice(0, i);
        buf = buf.slice(i + 2);
        const ev: SseEvent = { event: 'message', data: '' };
        let isComment = true;
        for (const line of block.split('\n')) {
          if (line.startsWith(':')) { comments.push(line); continue; }
          isComment = false;
          const [k, ...rest] = line.split(':');
          const v = rest.join(':').replace(/^ /, '');
          if (k === 'id') ev.id = v;
          else if (k === 'event') ev.event = v;
          else if (k === 'data') ev.data += v;
        }
        if (!isComment) events.push(ev);
      }
    }
    return { events, ended, comments };
  }
  return { read, cancel: () => reader.cancel().catch(() => undefined) };
}

/** Reads SSE events until `stop` says so, the stream ends, or `timeoutMs` passes; then lets go of the stream. */
export async function readSse(res: Response, stop: (events: SseEvent[]) => boolean = () => false, timeoutMs = 5000): Promise<{ events: SseEvent[]; ended: boolean; comments: string[] }> {
  const r = sseReader(res);
  const out = await r.read(stop, timeoutMs);
  if (!out.ended) await r.cancel();
  return out;
}

/** A raw POST with a Host header of our choosing (fetch does not let tests set Host). */
export function rawPost(url: string, hdrs: Record<string, string>, body: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', headers: hdrs }, (res) => {
      let data = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => { data += c; });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: data }));
    });
    req.on('error', reject);
    req.end(body);
  });
}
