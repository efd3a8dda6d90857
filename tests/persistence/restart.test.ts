// 2025-era Streamable HTTP sessions survive a restart of the satellite (in-process: close the app,
// build a new one on the same data dir and port); what must not come back does not.
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { LoggingMessageNotificationSchema, ResourceUpdatedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { headers, openSession, readSse, TOKEN_A_BOB, TOKEN_B } from '../transports/helpers';
import { journalFile, journalText, recordingTransport, sha256, startSatellite, until, waitForSaved, type Running } from './helpers';

let root: string;
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'satellite-persist-'));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

let n = 0;
const freshDir = (): string => join(root, `run-${++n}`);
const firstText = (r: unknown): string => ((r as { content: Array<{ text?: string }> }).content[0]?.text ?? '');
const listTools = (base: string, sid: string, token?: string) =>
  fetch(`${base}/mcp`, { method: 'POST', headers: headers(token, { 'mcp-session-id': sid }), body: JSON.stringify({ jsonrpc: '2.0', id: 7, method: 'tools/list' }) });

describe('a restart between two calls of a 2025 session', () => {
  it('keeps the session: same id, no second initialize, log level and resource subscription re-applied', async () => {
    const dir = freshDir();
    let run: Running = await startSatellite(dir);
    const { transport, sent } = recordingTransport(`${run.base}/mcp`);
    const client = new Client({ name: 'persist-test', version: '1' });
    const logs: string[] = [];
    const updates: string[] = [];
    client.setNotificationHandler(LoggingMessageNotificationSchema, (m) => { logs.push(m.params.level); });
    client.setNotificationHandler(ResourceUpdatedNotificationSchema, (m) => { updates.push(m.params.uri); });
    try {
      await client.connect(transport);
      const sid = transport.sessionId!;
      await client.setLoggingLevel('warning');
      await client.subscribeResource({ uri: 'test://watched-resource' });
      expect(firstText(await client.callTool({ name: 'conf__test_tool_with_logging', arguments: {} }))).toContain('executed successfully');
      expect(logs).toEqual([]); // info is below the session's level

      await run.app.close();
      // Only a hash of the bearer-like id is on disk, in a file only the satellite's user can read.
      const saved = journalText(dir);
      expect(saved).toContain(sha256(sid));
      expect(saved).not.toContain(sid);
      expect(statSync(journalFile(dir)).mode & 0o777).toBe(0o600);

      run = await startSatellite(dir, run.port);
      updates.length = 0;
      const after = await client.callTool({ name: 'conf__test_tool_with_logging', arguments: {} });
      expect(firstText(after)).toContain('executed successfully');
      expect(transport.sessionId).toBe(sid);
      expect(sent.filter((m) => m === 'initialize')).toHaveLength(1);
      // Without the restored level the fresh handler would pass the three info messages through.
      expect(logs).toEqual([]);
      // The fresh fixture process only reports the watched resource to a subscriber (every 3 s).
      expect(await until(() => updates.includes('test://watched-resource'), 8000)).toBe(true);
    } finally {
      await client.close();
      await run.app.close();
    }
  });

  it('answers 404 to another user or team presenting the id, and still serves its owner', async () => {
    const dir = freshDir();
    let run = await startSatellite(dir);
    try {
      const sid = await openSession(`${run.base}/mcp`);
      await run.app.close();
      run = await startSatellite(dir, run.port);
      const denied: string[] = [];
      run.app.sessions.on('denied', (d) => denied.push(d.reason));
      expect((await listTools(run.base, sid, TOKEN_A_BOB)).status).toBe(404);
      expect((await listTools(run.base, sid, TOKEN_B)).status).toBe(404);
      expect(denied).toEqual(['other_user', 'other_team']); // audited like a live session's id
      const own = await listTools(run.base, sid);
      expect(own.status).toBe(200);
      expect(JSON.stringify(await own.json())).toContain('conf__test_simple_text');
      // Restored now, the session still refuses the others.
      expect((await listTools(run.base, sid, TOKEN_A_BOB)).status).toBe(404);
    } finally {
      await run.app.close();
    }
  });

  it('does not restore a session that expired while the satellite was down', async () => {
    const dir = freshDir();
    const env = { MCP_SESSION_IDLE_TIMEOUT_SECONDS: '1' };
    let run = await startSatellite(dir, 0, env);
    try {
      const sid = await openSession(`${run.base}/mcp`);
      await run.app.close();
      expect(journalText(dir)).toContain(sha256(sid));
      await new Promise((r) => setTimeout(r, 1100));
      run = await startSatellite(dir, run.port, env);
      expect((await listTools(run.base, sid)).status).toBe(404);
      expect(journalText(dir)).not.toContain(sha256(sid));
    } finally {
      await run.app.close();
    }
  });

  it('does not restore a session the client deleted, before or after the restart', async () => {
    const dir = freshDir();
    let run = await startSatellite(dir);
    const del = (base: string, sid: string) => fetch(`${base}/mcp`, { method: 'DELETE', headers: headers(undefined, { 'mcp-session-id': sid }) });
    try {
      const sid = await openSession(`${run.base}/mcp`);
      const later = await openSession(`${run.base}/mcp`);
      await waitForSaved(dir, sid);
      expect((await del(run.base, sid)).status).toBe(200);
      await run.app.close();
      run = await startSatellite(dir, run.port);
      expect((await listTools(run.base, sid)).status).toBe(404);
      expect(journalText(dir)).not.toContain(sha256(sid));
      // Deleted straight after the restart, with no request before: forgotten, not restored first.
      const connected: string[] = [];
      run.app.sessions.on('connect', (s) => connected.push(s.sessionId));
      expect((await del(run.base, later)).status).toBe(200);
      expect(connected).toEqual([]);
      expect((await listTools(run.base, later)).status).toBe(404);
      await new Promise((r) => setImmediate(r));
      expect(journalText(dir)).toContain(`"del","h":"${sha256(later)}"`);
    } finally {
      await run.app.close();
    }
  });

  it('never resumes a request stream of the previous run, even when this run reuses its stream number', async () => {
    const dir = freshDir();
    let run = await startSatellite(dir);
    const progressCall = (base: string, sid: string) => fetch(`${base}/mcp`, {
      method: 'POST',
      headers: headers(undefined, { 'mcp-session-id': sid }),
      body: JSON.stringify({ jsonrpc: '2.0', id: 3, method: 'tools/call', params: { name: 'conf__test_tool_with_progress', arguments: {}, _meta: { progressToken: 'p' } } })
    });
    try {
      const sid = await openSession(`${run.base}/mcp`);
      const before = await readSse(await progressCall(run.base, sid), (ev) => ev.some((e) => e.data.includes('"result"')));
      const cutAt = before.events[0]!.id!;
      expect(cutAt).toMatch(/^[1-9]\d*-\d+$/);
      await run.app.close();
      run = await startSatellite(dir, run.port);
      // This run's first request stream gets the same stream number as the one before.
      const again = await readSse(await progressCall(run.base, sid), (ev) => ev.some((e) => e.data.includes('"result"')));
      expect(again.events[0]!.id!.split('-')[0]).toBe(cutAt.split('-')[0]);
      const resume = await fetch(`${run.base}/mcp`, { headers: headers(undefined, { 'mcp-session-id': sid, 'last-event-id': cutAt }) });
      expect(resume.status).toBe(204);
    } finally {
      await run.app.close();
    }
  });

  it('restores a pass-through session once, however many requests name it at once; only on its own endpoint', async () => {
    const dir = freshDir();
    let run = await startSatellite(dir);
    const post = (base: string, sid: string, id: number) => fetch(`${base}/servers/conf/mcp`, {
      method: 'POST', headers: headers(undefined, { 'mcp-session-id': sid }), body: JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/list' })
    });
    try {
      const sid = await openSession(`${run.base}/servers/conf/mcp`);
      await run.app.close();
      run = await startSatellite(dir, run.port);
      expect((await listTools(run.base, sid)).status).toBe(404); // the team endpoint is another target
      const answers = await Promise.all([1, 2, 3].map((id) => post(run.base, sid, id)));
      expect(answers.map((a) => a.status)).toEqual([200, 200, 200]);
      for (const a of answers) expect(JSON.stringify(await a.json())).toContain('test_simple_text');
      expect(run.app.sessions.size).toBe(1);
    } finally {
      await run.app.close();
    }
  });

  it('answers 503 with Retry-After while the team is at its session cap, and restores once a slot is free', async () => {
    const dir = freshDir();
    const env = { MCP_MAX_SESSIONS_PER_TEAM: '1' };
    let run = await startSatellite(dir, 0, env);
    try {
      const saved = await openSession(`${run.base}/mcp`);
      await run.app.close();
      run = await startSatellite(dir, run.port, env);
      const fresh = await openSession(`${run.base}/mcp`);
      const full = await listTools(run.base, saved);
      expect(full.status).toBe(503);
      expect(full.headers.get('retry-after')).toMatch(/^\d+$/);
      await fetch(`${run.base}/mcp`, { method: 'DELETE', headers: headers(undefined, { 'mcp-session-id': fresh }) });
      expect((await listTools(run.base, saved)).status).toBe(200);
    } finally {
      await run.app.close();
    }
  });
});
