import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import pino from 'pino';
import { buildApp } from '../../src/app';
import { AuditLog } from '../../src/audit/audit-log';
import { RotatingFile } from '../../src/audit/rotating-file';
import { parseStandaloneConfig } from '../../src/config/standalone';
import { testConfig } from '../helpers/config';

const TOKEN_A = 'tok-alpha-0123456789abcdef0123456789';
const BAD_TOKEN = 'tok-forged-9999999999999999999999';
const SECRET_ARG = 'hunter2-very-secret-argument';

const standalone = {
  teams: { 'team-a': { slug: 'alpha' } },
  tokens: { [TOKEN_A]: { team_id: 'team-a', user_id: 'alice', scopes: ['mcp:read', 'mcp:tools:execute'] } },
  mcp_servers: {}
};

const readRecords = (file: string) => readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, any>);

describe('audit log', () => {
  let dir: string;
  let file: string;
  let app: FastifyInstance;
  let base: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'satellite-audit-'));
    file = join(dir, 'nested', 'audit.log');
    app = await buildApp(testConfig({ AUDIT_LOG_FILE: file }, standalone));
    base = await app.listen({ port: 0, host: '127.0.0.1' });

    // Real traffic: a forged token, no token, and a valid one.
    expect((await fetch(`${base}/api/status/team`, { headers: { authorization: `Bearer ${BAD_TOKEN}` } })).status).toBe(401);
    expect((await fetch(`${base}/api/status/jobs`)).status).toBe(401);
    expect((await fetch(`${base}/api/status/team`, { headers: { authorization: `Bearer ${TOKEN_A}` } })).status).toBe(200);
    // What the gateway and transports record through the API.
    app.audit.record('tool.called', {
      team: 'team-a', user: 'alice', session: 'sess-0f3c9a', server: 'memory', tool: 'search',
      durationMs: 12, outcome: 'ok', arguments: { query: SECRET_ARG, limit: 5 }
    });
    app.audit.record('tool.called', {
      team: 'team-a', user: 'alice', server: 'memory', tool: 'search', durationMs: 9, outcome: 'error',
      arguments: { limit: 5, query: SECRET_ARG }, error: `upstream said: GET https://api.example/x?api_key=${SECRET_ARG} failed, Bearer ${TOKEN_A}`
    });
    // A caller passing a secret-looking field by mistake: it never reaches the file.
    app.audit.record('command.executed', { command: 'restart', outcome: 'ok', ...({ token: TOKEN_A } as object) });
    app.configStore.replace(parseStandaloneConfig({
      ...standalone,
      mcp_servers: { 'mem-a': { installation_id: 'i1', team_id: 'team-a', team_slug: 'alpha', server_slug: 'memory', installation_name: 'memory', transport_type: 'stdio', command: 'node', env: { API_KEY: SECRET_ARG } } }
    }, 'test'));
    await app.close();
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('writes one JSON record per action to its own file', () => {
    const records = readRecords(file);
    expect(records.map((r) => r.action)).toEqual(['auth.failed', 'auth.failed', 'tool.called', 'tool.called', 'command.executed', 'config.changed']);
    for (const r of records) expect(Date.parse(r.time)).not.toBeNaN();
    expect(records[0]).toMatchObject({ action: 'auth.failed', route: '/api/status/team', status: 401, method: 'GET', reason: 'invalid_token', ip: '127.0.0.1' });
    expect(records[1]).toMatchObject({ action: 'auth.failed', route: '/api/status/jobs', status: 401, reason: 'missing_token' });
    expect(records[5]).toMatchObject({ action: 'config.changed', source: 'standalone', added: ['mem-a'], removed: [], changed: [], teamsChanged: false, grantsChanged: false });
  });

  it('keeps argument names and a hash, never argument values', () => {
    const [, , call, failed] = readRecords(file);
    expect(call).toMatchObject({ team: 'team-a', user: 'alice', server: 'memory', tool: 'search', durationMs: 12, outcome: 'ok', argumentNames: ['limit', 'query'] });
    expect(call!.argumentsHash).toMatch(/^[0-9a-f]{32}$/);
    // Same arguments in another key order: same hash, so identical calls correlate.
    expect(failed!.argumentsHash).toBe(call!.argumentsHash);
    expect(call!.session).toMatch(/^sha256:[0-9a-f]{16}$/);
    expect(call).not.toHaveProperty('arguments');
  });

  it('holds no token, secret argument or session id', () => {
    const text = readFileSync(file, 'utf8');
    for (const secret of [TOKEN_A, BAD_TOKEN, SECRET_ARG, 'sess-0f3c9a']) expect(text).not.toContain(secret);
    expect(text).toContain('api_key=[Redacted]');
    expect(text).toContain('Bearer [Redacted]');
  });
});

describe('audit file rotation', () => {
  it('rotates by size and keeps maxFiles old files, every line whole', () => {
    const dir = mkdtempSync(join(tmpdir(), 'satellite-rotate-'));
    try {
      const path = join(dir, 'audit.log');
      const file = new RotatingFile(path, 200, 2);
      for (let i = 0; i < 20; i++) file.write(`${JSON.stringify({ n: i, pad: 'x'.repeat(40) })}\n`);
      file.close();
      expect(existsSync(`${path}.1`)).toBe(true);
      expect(existsSync(`${path}.2`)).toBe(true);
      expect(existsSync(`${path}.3`)).toBe(false);
      const numbers = [`${path}.2`, `${path}.1`, path].flatMap((p) => readRecords(p).map((r) => r.n as number));
      // The newest lines, in order, none cut in half; the oldest went with the dropped file.
      expect(numbers).toEqual(Array.from({ length: numbers.length }, (_, i) => 20 - numbers.length + i));
      for (const p of [`${path}.1`, path]) expect(readFileSync(p).length).toBeLessThanOrEqual(200);
      // A restart appends to the existing file and keeps counting its size.
      const again = new RotatingFile(path, 200, 2);
      again.write('{"n":20}\n');
      again.close();
      expect(readRecords(path).at(-1)).toEqual({ n: 20 });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('drops records after close instead of throwing', () => {
    const dir = mkdtempSync(join(tmpdir(), 'satellite-audit-closed-'));
    try {
      const warnings: string[] = [];
      const log = pino({ level: 'warn' }, { write: (l: string) => warnings.push(JSON.parse(l).msg) });
      const audit = new AuditLog({ file: join(dir, 'a.log'), maxBytes: 1 << 20, maxFiles: 2 }, log as never);
      audit.close();
      expect(() => audit.record('command.executed', { command: 'x', outcome: 'ok' })).not.toThrow();
      expect(warnings).toEqual(['audit record after close: dropped']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
