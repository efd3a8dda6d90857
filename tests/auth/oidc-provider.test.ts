import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import Provider from 'oidc-provider';
import { buildApp } from '../../src/app';
import { testConfig } from '../helpers/config';
import { call, mountProbe } from './probe';

const RESOURCE = 'https://satellite.test/mcp';
const basic = (id: string, secret: string) => `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`;

/** A real OAuth 2.1 authorization server (node oidc-provider) on 127.0.0.1, issuing opaque tokens. */
async function startAuthorizationServer(): Promise<{ issuer: string; server: Server }> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const provider = new Provider(issuer, {
    clients: [
      { client_id: 'satellite', client_secret: 'satellite-secret', grant_types: [], redirect_uris: [], response_types: [] },
      { client_id: 'agent-a', client_secret: 'agent-a-secret', grant_types: ['client_credentials'], redirect_uris: [], response_types: [], scope: 'mcp:read mcp:tools:execute' }
    ],
    scopes: ['mcp:read', 'mcp:tools:execute'],
    ttl: { ClientCredentials: 600 },
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      introspection: { enabled: true, allowedPolicy: async (_ctx, client) => client.clientId === 'satellite' },
      revocation: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => RESOURCE,
        useGrantedResource: () => true,
        getResourceServerInfo: () => ({ scope: 'mcp:read mcp:tools:execute', accessTokenFormat: 'opaque', accessTokenTTL: 600 })
      }
    },
    extraTokenClaims: async () => ({ team_id: 'team-a' })
  });
  server.on('request', provider.callback());
  return { issuer, server };
}

async function clientCredentialsToken(issuer: string, scope: string): Promise<string> {
  const res = await fetch(`${issuer}/token`, {
    method: 'POST',
    headers: { authorization: basic('agent-a', 'agent-a-secret'), 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'client_credentials', scope }).toString()
  });
  const body = (await res.json()) as { access_token?: string };
  if (!body.access_token) throw new Error(`no token: ${JSON.stringify(body)}`);
  return body.access_token;
}

describe('a real authorization server (oidc-provider) as introspection endpoint', () => {
  let as: { issuer: string; server: Server };
  let app: FastifyInstance;
  let base: string;
  beforeAll(async () => {
    as = await startAuthorizationServer();
    app = await buildApp(testConfig({
      OAUTH_INTROSPECTION_URL: `${as.issuer}/token/introspection`,
      OAUTH_CLIENT_ID: 'satellite',
      OAUTH_CLIENT_SECRET: 'satellite-secret',
      OAUTH_AUDIENCE: RESOURCE,
      OAUTH_AUTHORIZATION_SERVERS: as.issuer,
      OAUTH_INTROSPECTION_CACHE_SIZE: '0'
    }, { teams: { 'team-a': { slug: 'alpha' } } }));
    mountProbe(app);
    base = await app.listen({ port: 0, host: '127.0.0.1' });
  });
  afterAll(async () => {
    await app.close();
    as.server.closeAllConnections();
    await new Promise<void>((r) => as.server.close(() => r()));
  });

  it('accepts a token the server issued (client_credentials), with its team, client and scopes', async () => {
    const token = await clientCredentialsToken(as.issuer, 'mcp:read mcp:tools:execute');
    const res = await call(base, { token, body: { jsonrpc: '2.0', id: 1, method: 'tools/call' } });
    expect(res.status).toBe(200);
    expect(res.body.identity).toMatchObject({ teamId: 'team-a', clientId: 'agent-a', scopes: ['mcp:read', 'mcp:tools:execute'], anonymous: false });
  });

  it('refuses tools/call with 403 insufficient_scope for a read-only token', async () => {
    const token = await clientCredentialsToken(as.issuer, 'mcp:read');
    expect((await call(base, { token, body: { jsonrpc: '2.0', id: 1, method: 'tools/list' } })).status).toBe(200);
    const res = await call(base, { token, body: { jsonrpc: '2.0', id: 2, method: 'tools/call' } });
    expect(res.status).toBe(403);
    expect(res.headers.get('www-authenticate')).toContain('error="insufficient_scope"');
  });

  it('refuses the token once the server revoked it', async () => {
    const token = await clientCredentialsToken(as.issuer, 'mcp:read');
    expect((await call(base, { token })).status).toBe(200);
    const revoked = await fetch(`${as.issuer}/token/revocation`, {
      method: 'POST',
      headers: { authorization: basic('agent-a', 'agent-a-secret'), 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token }).toString()
    });
    expect(revoked.status).toBe(200);
    const res = await call(base, { token });
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toContain('error="invalid_token"');
  });

  it('names the server in the protected resource metadata', async () => {
    const res = await fetch(`${base}/.well-known/oauth-protected-resource/mcp`);
    expect(((await res.json()) as { authorization_servers: string[] }).authorization_servers).toEqual([as.issuer]);
  });
});
