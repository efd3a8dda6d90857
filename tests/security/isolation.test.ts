// Isolation attacks under the real bubblewrap sandbox, driven through the satellite over HTTP: a
// team's server tries to reach another team's files, host processes, the satellite's env, config
// and audit files, and to write outside its directory; a client replays one team's session id
// with another team's token. Every attempt is refused; the satellite records what it decides
// (the replay) in the audit log and keeps the server's own account (its stderr) in the log buffer.
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app';
import { testConfig } from '../helpers/config';
import { headers, openSession, readSse, TOKEN_A, TOKEN_B } from '../transports/helpers';

const ESCAPE = resolve(__dirname, '../fixtures/attack/escape-server.mjs');
const REPO = resolve(__dirname, '../..');
const MARKER_NAME = 'SATELLITE_ISOLATION_TEST_SECRET';
const MARKER_VALUE = `marker-${process.pid}-9f8e7d6c5b4a`;

const hasBwrap = existsSync('/usr/bin/bwrap');

describe.runIf(hasBwrap)('isolation attacks under bwrap', () => {
  let app: FastifyInstance;
  let base: string;
  let root: string;
  let dataDir: string;
  let configFile: string;
  let auditFile: string;
  const hostTmpFile = join(tmpdir(), `satellite-escape-${process.pid}.txt`);

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'satellite-isolation-'));
    dataDir = join(root, 'data');
    auditFile = join(root, 'audit.log');
    // Stands in for the satellite's config file, with a token in it.
    configFile = join(root, 'satellite.json');
    writeFileSync(configFile, JSON.stringify({ tokens: { [TOKEN_A]: { team_id: 'team-a' } } }));
    for (const team of ['team-a', 'team-b']) {
      const dir = join(dataDir, 'teams', team);
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      // The repository is hidden inside the sandbox: the server runs from its own directory.
      copyFileSync(ESCAPE, join(dir, 'escape-server.mjs'));
      writeFileSync(join(dir, 'secret.txt'), `${team} private data`);
    }
    process.env[MARKER_NAME] = MARKER_VALUE;
    const server = (team: string) => ({
      installation_id: `inst-${team}`, team_id: team, team_slug: team, server_slug: 'escape', installation_name: `${team}-escape`,
      transport_type: 'stdio' as const, command: 'node', args: ['/home/mcp/escape-server.mjs'], env: { OWN_SETTING: 'visible' }, enabled: true
    });
    app = await buildApp(testConfig({ SANDBOX: 'bwrap', SATELLITE_DATA_DIR: dataDir, AUDIT_LOG_FILE: auditFile, MCP_REQUEST_TIMEOUT_MS: '15000' }, {
      teams: { 'team-a': { slug: 'team-a' }, 'team-b': { slug: 'team-b' } },
      tokens: {
        [TOKEN_A]: { team_id: 'team-a', user_id: 'alice', scopes: ['mcp:read', 'mcp:tools:execute'] },
        [TOKEN_B]: { team_id: 'team-b', user_id: 'carol', scopes: ['mcp:read', 'mcp:tools:execute'] }
      },
      mcp_servers: { a: server('team-a'), b: server('team-b') }
    }));
    base = await app.listen({ port: 0, host: '127.0.0.1' });
  }, 30_000);
  afterAll(async () => {
    delete process.env[MARKER_NAME];
    await app?.close();
    rmSync(root, { recursive: true, force: true });
    rmSync(hostTmpFile, { force: true });
  });

  const auditRecords = () => readFileSync(auditFile, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);

  it('a team\'s server cannot read or write another team\'s files, see host processes, or read the satellite\'s env, config or audit log', async () => {
    const sid = await openSession(`${base}/servers/escape/mcp`, TOKEN_A);
    const res = await fetch(`${base}/servers/escape/mcp`, {
      method: 'POST', headers: headers(TOKEN_A, { 'mcp-session-id': sid }),
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'attack', arguments: {
        otherTeamDir: join(dataDir, 'teams', 'team-b'), satellitePid: process.pid, envMarkerName: MARKER_NAME, envMarkerValue: MARKER_VALUE,
        configFile, auditFile, dataDir, repoDir: REPO, hostTmpFile, port: Number(new URL(base).port)
      } } })
    });
    const body = (await res.json()) as { result: { structuredContent: Record<string, { ok: boolean; detail: unknown }> } };
    const r = body.result.structuredContent;
    // The control: the probe can act at all, inside its own directory.
    expect(r.ownDirWrite).toMatchObject({ ok: true });
    expect(readFileSync(join(dataDir, 'teams', 'team-a', 'probe-ok.txt'), 'utf8')).toBe('mine');

    const refused = ['readOtherTeamDir', 'readOtherTeamFile', 'writeOtherTeamDir', 'readSatelliteEnviron', 'readSatelliteCmdline', 'seeHostPids',
      'satelliteEnvMarker', 'readConfigFile', 'readAuditLog', 'writeDataDir', 'writeRepo', 'writeEtc', 'anonymousMcp'];
    for (const k of refused) expect(r[k], k).toMatchObject({ ok: false });
    // A multi-team satellite never lets a token-less caller in, also from inside a sandbox.
    expect(r.anonymousMcp!.detail).toBe('HTTP_401');
    // Private /tmp: a write "succeeds" but lands in the sandbox's own tmpfs, not on the host.
    expect(existsSync(hostTmpFile)).toBe(false);
    expect(existsSync(join(dataDir, 'teams', 'team-b', 'planted.txt'))).toBe(false);
    expect(existsSync(join(dataDir, 'planted.txt'))).toBe(false);
    expect(existsSync(join(REPO, 'planted.txt'))).toBe(false);
    // Known and documented (SECURITY.md): the network, loopback included, is shared.
    expect(r.reachSatellitePort).toMatchObject({ ok: true, detail: 200 });

    // The satellite cannot see inside; the server's own account of each attempt is in its log buffer.
    const lines = app.servers.get('team-a', 'escape')!.logs!().map((l) => l.line).join('\n');
    expect(lines).toMatch(/attack read-other-team-file: denied \(ENOENT\)/);
    expect(lines).toMatch(/attack read-satellite-environ: denied/);
    expect(lines).toMatch(/attack write-etc: denied/);
    // Its stderr carries nothing of the satellite's env.
    expect(lines).not.toContain(MARKER_VALUE);
  }, 30_000);

  it('a session id replayed with another team\'s token is refused as unknown (404) and audited', async () => {
    const sid = await openSession(`${base}/servers/escape/mcp`, TOKEN_A);
    const ping = JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'ping' });
    for (const url of [`${base}/servers/escape/mcp`, `${base}/mcp`]) {
      const replay = await fetch(url, { method: 'POST', headers: headers(TOKEN_B, { 'mcp-session-id': sid }), body: ping });
      expect(replay.status).toBe(404);
      expect(((await replay.json()) as { error: { code: number } }).error.code).toBe(-32001);
    }
    // The owner still has it.
    const own = await fetch(`${base}/servers/escape/mcp`, { method: 'POST', headers: headers(TOKEN_A, { 'mcp-session-id': sid }), body: ping });
    expect(own.status).toBe(200);

    // The same for a legacy SSE session and its /message endpoint.
    const stream = await fetch(`${base}/servers/escape/sse`, { headers: { authorization: `Bearer ${TOKEN_A}`, accept: 'text/event-stream' } });
    const endpoint = (await readSse(stream, (ev) => ev.length >= 1)).events[0]!.data;
    expect(endpoint).toMatch(/sessionId=/);
    const legacy = await fetch(new URL(endpoint, base), { method: 'POST', headers: { authorization: `Bearer ${TOKEN_B}`, 'content-type': 'application/json' }, body: ping });
    expect(legacy.status).toBe(404);

    const denied = auditRecords().filter((r) => r.action === 'session.denied');
    expect(denied.length).toBeGreaterThanOrEqual(3);
    expect(denied[0]).toMatchObject({ team: 'team-b', user: 'carol', ownerTeam: 'team-a', reason: 'other_team', session: expect.stringMatching(/^sha256:/) });
    // Never the session id itself (a credential) nor a token.
    const text = readFileSync(auditFile, 'utf8');
    expect(text).not.toContain(sid);
    expect(text).not.toContain(TOKEN_B);
  });
});
