// Shared by the persistence tests: a satellite on a data dir of the test's own (so a restart finds
// what the previous run saved), a fetch that records what the client sent, and the journal's text.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/app';
import { testConfig } from '../helpers/config';
import { server, TOKEN_A, TOKEN_A_BOB, TOKEN_B } from '../transports/helpers';

export const standalone = {
  teams: { 'team-a': { slug: 'team-a' }, 'team-b': { slug: 'team-b' } },
  tokens: {
    [TOKEN_A]: { team_id: 'team-a', user_id: 'alice', scopes: ['mcp:read', 'mcp:tools:execute'] },
    [TOKEN_A_BOB]: { team_id: 'team-a', user_id: 'bob', scopes: ['mcp:read', 'mcp:tools:execute'] },
    [TOKEN_B]: { team_id: 'team-b', user_id: 'carol', scopes: ['mcp:read', 'mcp:tools:execute'] }
  },
  mcp_servers: { a: server('team-a', 'conf'), b: server('team-b', 'conf-b') }
};

export interface Running {
  app: FastifyInstance;
  base: string;
  port: number;
}

/** The satellite on `dataDir`, on `port` (0: any; a restart passes the previous run's port). */
export async function startSatellite(dataDir: string, port = 0, env: Record<string, string> = {}): Promise<Running> {
  const app = await buildApp(testConfig({ SATELLITE_DATA_DIR: dataDir, ...env }, standalone));
  const base = await app.listen({ port, host: '127.0.0.1' });
  return { app, base, port: Number(new URL(base).port) };
}

export const journalFile = (dataDir: string): string => join(dataDir, 'sessions', 'sessions.jsonl');
export const journalText = (dataDir: string): string => (existsSync(journalFile(dataDir)) ? readFileSync(journalFile(dataDir), 'utf8') : '');
export const sha256 = (s: string): string => createHash('sha256').update(s).digest('hex');

/** Waits (bounded) until the journal mentions this session id's hash: saved before a crash. */
export async function waitForSaved(dataDir: string, sessionId: string, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!journalText(dataDir).includes(sha256(sessionId))) {
    if (Date.now() > deadline) throw new Error('the session was not saved in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** A Streamable HTTP client transport that records the JSON-RPC methods it POSTs and retries its GET stream patiently. */
export function recordingTransport(url: string, token = TOKEN_A): { transport: StreamableHTTPClientTransport; sent: string[] } {
  const sent: string[] = [];
  const recording: typeof fetch = async (input, init) => {
    if (init?.method === 'POST' && typeof init.body === 'string') {
      const body = JSON.parse(init.body) as { method?: string } | Array<{ method?: string }>;
      for (const m of Array.isArray(body) ? body : [body]) if (m.method !== undefined) sent.push(m.method);
    }
    return fetch(input, init);
  };
  const transport = new StreamableHTTPClientTransport(new URL(url), {
    requestInit: { headers: { authorization: `Bearer ${token}` } },
    fetch: recording,
    reconnectionOptions: { initialReconnectionDelay: 100, maxReconnectionDelay: 400, reconnectionDelayGrowFactor: 1.5, maxRetries: 40 }
  });
  return { transport, sent };
}

/** Polls `cond` every 20 ms, at most `timeoutMs`. */
export async function until(cond: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 20));
  }
  return true;
}
