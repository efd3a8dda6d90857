import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { buildApp } from '../../src/app';
import { testConfig } from '../helpers/config';
import { FakeBackend } from '../fake-backend/server';
import { backendEnv, newToken, tempDir, waitFor } from '../backend/helpers';
import { connectClient, textJson } from '../budgets/helpers';
import { startOAuthMcpServer, type OAuthMcpServer } from './oauth-server';

const ANN = 'client-token-ann-0123456789';
const BOB = 'client-token-bob-0123456789';
const entry = (user: string, url: string): Record<string, unknown> => ({
  installation_id: 'inst-cal', instance_id: `i-${user}`, team_id: 'team-o', team_slug: 'oauth', server_slug: 'cal',
  installation_name: `cal-oauth-${user}`, transport_type: 'http', url, enabled: true, requires_oauth: true, user_id: user,
  // A static header of the installation: the user's token must win over it.
  headers: { Authorization: 'Bearer installation-static' }
});

describe('per-user upstream OAuth tokens of remote servers', () => {
  let fake: FakeBackend;
  let upstream: OAuthMcpServer;
  let app: FastifyInstance;
  let base: string;
  let tmp: { dir: string; cleanup: () => void };
  const clients: Client[] = [];
  const statuses: Array<Record<string, unknown>> = [];

  beforeAll(async () => {
    upstream = await startOAuthMcpServer();
    upstream.accepted.add('ann-access-1').add('bob-access-1');
    fake = new FakeBackend();
    await fake.start();
    fake.config = { mcp_servers: { 'cal-oauth-ann-inst-cal': entry('ann', upstream.url), 'cal-oauth-bob-inst-cal': entry('bob', upstream.url) } };
    fake.upstreamTokens.set('inst-cal:ann:team-o', { access_token: 'ann-access-1', refresh_token: null, token_type: 'Bearer', expires_at: null, scope: null });
    fake.upstreamTokens.set('inst-cal:bob:team-o', { access_token: 'bob-access-1', refresh_token: null, token_type: 'Bearer', expires_at: null, scope: null });
    for (const [token, sub] of [[ANN, 'ann'], [BOB, 'bob']] as const) {
      fake.introspection.set(token, { active: true, sub, team_id: 'team-o', scope: 'mcp:read mcp:tools:execute', client_id: 'test' });
    }
    tmp = tempDir();
    app = await buildApp(testConfig(backendEnv(fake, tmp.dir, newToken(fake))));
    app.events.on('mcp.server.status_changed', (e) => void statuses.push(e.data as Record<string, unknown>));
    base = await app.listen({ port: 0, host: '127.0.0.1' });
    await waitFor('backend connection', () => app.backend?.state === 'connected', 8_000);
    await waitFor('per-user servers configured', () => app.servers.get('team-o', 'cal', 'bob') !== undefined, 8_000);
    await app.servers.settled();
  });
  afterAll(async () => {
    await Promise.allSettled(clients.map((c) => c.close()));
    await app?.close();
    await fake.stop();
    await upstream.close();
    tmp.cleanup();
  });

  it('sends each user\'s own upstream token, never the client\'s', async () => {
    const ann = await connectClient(base, ANN);
    const bob = await connectClient(base, BOB);
    clients.push(ann, bob);
    expect(textJson(await ann.callTool({ name: 'cal__whoami', arguments: {} })).bearer).toBe('ann-access-1');
    expect(textJson(await bob.callTool({ name: 'cal__whoami', arguments: {} })).bearer).toBe('bob-access-1');
    expect(upstream.seen.some((h) => h?.includes(ANN) || h?.includes(BOB))).toBe(false);
    expect(upstream.seen.some((h) => h?.includes('installation-static'))).toBe(false);
  });

  it('a 401 yields requires_reauth and an isError asking to re-authorize; the token is fetched again', async () => {
    const ann = await connectClient(base, ANN);
    clients.push(ann);
    // Ann's token is revoked upstream; the backend now holds a re-authorized one the satellite has not seen.
    upstream.accepted.delete('ann-access-1');
    fake.upstreamTokens.set('inst-cal:ann:team-o', { access_token: 'ann-access-2', refresh_token: null, token_type: 'Bearer', expires_at: new Date(Date.now() + 3_600_000).toISOString(), scope: null });
    upstream.accepted.add('ann-access-2');

    const refused = await ann.callTool({ name: 'cal__whoami', arguments: {} });
    expect(refused.isError).toBe(true);
    expect((refused.content as Array<{ text: string }>)[0]!.text).toMatch(/rejected your authorization \(HTTP 401\).*connect your account for 'cal-oauth-ann' again/);
    expect(app.servers.get('team-o', 'cal', 'ann')?.status).toBe('requires_reauth');
    await waitFor('requires_reauth event', () => statuses.some((s) => s.status === 'requires_reauth' && s.user_id === 'ann'), 3_000);
    // Bob is not affected.
    expect(app.servers.get('team-o', 'cal', 'bob')?.status).toBe('online');

    // The next call (after the short retry pause) asks the backend again and gets through.
    let answer: Record<string, unknown> | undefined;
    for (let i = 0; i < 30 && answer?.bearer !== 'ann-access-2'; i++) {
      await new Promise((r) => setTimeout(r, 200));
      const r = await ann.callTool({ name: 'cal__whoami', arguments: {} });
      if (r.isError !== true) answer = textJson(r);
    }
    expect(answer?.bearer).toBe('ann-access-2');
    expect(app.servers.get('team-o', 'cal', 'ann')?.status).toBe('online');
  });

  it('the heartbeat reports both users\' instances under the team', async () => {
    await app.backend!.sendHeartbeat();
    const last = fake.heartbeats.at(-1) as { processes_by_team: Record<string, Array<Record<string, unknown>>> };
    const team = last.processes_by_team['team-o'] ?? [];
    expect(team.map((p) => p.user_id).sort()).toEqual(['ann', 'bob']);
    expect(team.map((p) => p.instance_id).sort()).toEqual(['i-ann', 'i-bob']);
    expect(team.every((p) => p.installation_id === 'inst-cal' && p.status === 'online')).toBe(true);
  });
});
