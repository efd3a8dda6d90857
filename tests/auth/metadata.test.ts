import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/app';
import { testConfig } from '../helpers/config';
import { IntrospectionServer } from './introspection-server';
import { call, mountProbe } from './probe';
import { mcpResourcePath, resourceMetadataUrl } from '../../src/auth/challenge';

const getJson = async (url: string) => {
  const res = await fetch(url, { signal: AbortSignal.timeout(5000) });
  return { status: res.status, body: (await res.json()) as Record<string, any> };
};

describe('protected resource metadata (standalone)', () => {
  let app: FastifyInstance;
  let base: string;
  beforeAll(async () => {
    app = await buildApp(testConfig({ OAUTH_AUTHORIZATION_SERVERS: 'https://as.example,https://as2.example' }));
    base = await app.listen({ port: 0, host: '127.0.0.1' });
  });
  afterAll(() => app.close());

  it('publishes the root document with authorization servers, scopes and header-only bearer', async () => {
    const { status, body } = await getJson(`${base}/.well-known/oauth-protected-resource`);
    expect(status).toBe(200);
    expect(body).toEqual({
      resource: base,
      authorization_servers: ['https://as.example', 'https://as2.example'],
      scopes_supported: ['mcp:read', 'mcp:tools:execute'],
      bearer_methods_supported: ['header'],
      resource_name: 'Satellite MCP gateway',
      resource_documentation: `${base}/documentation`
    });
  });

  it('publishes path-inserted documents, each naming its own resource', async () => {
    expect((await getJson(`${base}/.well-known/oauth-protected-resource/mcp`)).body.resource).toBe(`${base}/mcp`);
    expect((await getJson(`${base}/.well-known/oauth-protected-resource/servers/memory/mcp`)).body.resource).toBe(`${base}/servers/memory/mcp`);
    expect((await getJson(`${base}/.well-known/oauth-protected-resource/servers/Bad..Slug/mcp`)).status).toBe(400);
  });

  it('does not publish authorization server metadata outside backend mode', async () => {
    expect((await fetch(`${base}/.well-known/oauth-authorization-server`)).status).toBe(404);
  });

  it('maps MCP paths to their path-inserted metadata (what 401 challenges point to)', () => {
    expect(resourceMetadataUrl(base, mcpResourcePath('/mcp'))).toBe(`${base}/.well-known/oauth-protected-resource/mcp`);
    expect(resourceMetadataUrl(base, mcpResourcePath('/servers/memory/mcp?x=1'))).toBe(`${base}/.well-known/oauth-protected-resource/servers/memory/mcp`);
    expect(resourceMetadataUrl(base, mcpResourcePath('/sse'))).toBe(`${base}/.well-known/oauth-protected-resource`);
    expect(resourceMetadataUrl(base, mcpResourcePath('/servers/../mcp'))).toBe(`${base}/.well-known/oauth-protected-resource`);
  });
});

describe('backend mode', () => {
  const backend = new IntrospectionServer('/api/oauth2/introspect', true);
  let app: FastifyInstance;
  let base: string;
  let dir: string;
  let apiKey: string | undefined;
  beforeAll(async () => {
    const url = await backend.start();
    dir = mkdtempSync(join(tmpdir(), 'satellite-auth-'));
    app = await buildApp(testConfig({
      DEPLOYSTACK_BACKEND_URL: url.replace('/api/oauth2/introspect', ''),
      DEPLOYSTACK_SATELLITE_NAME: 'satellite-auth-test',
      DEPLOYSTACK_REGISTRATION_TOKEN: 'deploystack_satellite_global_0123456789abcdef',
      DEPLOYSTACK_CREDENTIALS_FILE: join(dir, 'key.json'),
      DEPLOYSTACK_SATELLITE_URL: 'https://sat.example',
      SATELLITE_DATA_DIR: dir
    }, { teams: { 'team-a': { slug: 'alpha' } } }));
    app.auth.useBackendApiKey(() => apiKey);
    mountProbe(app);
    base = await app.listen({ port: 0, host: '127.0.0.1' });
  });
  afterAll(async () => {
    await app.close();
    await backend.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('answers 503 while the satellite has no API key yet', async () => {
    const res = await call(base, { token: 'client-token-1' });
    expect(res.status).toBe(503);
    expect(res.body.error.message).toMatch(/not registered/);
    expect(backend.calls).toHaveLength(0);
  });

  it('introspects at the backend with the API key as bearer and a JSON {token} body', async () => {
    apiKey = 'sat-api-key-1';
    backend.claims.set('client-token-1', { sub: 'user-1', team_id: 'team-a', scope: 'mcp:read mcp:tools:execute', client_id: 'vscode' });
    const res = await call(base, { token: 'client-token-1' });
    expect(res.status).toBe(200);
    expect(res.body.identity).toEqual({ teamId: 'team-a', userId: 'user-1', scopes: ['mcp:read', 'mcp:tools:execute'], anonymous: false, clientId: 'vscode' });
    expect(backend.calls).toHaveLength(1);
    expect(backend.calls[0]).toMatchObject({ authorization: 'Bearer sat-api-key-1', contentType: 'application/json', token: 'client-token-1' });
    expect(JSON.parse(backend.calls[0]!.body)).toEqual({ token: 'client-token-1' });
  });

  it('uses DEPLOYSTACK_SATELLITE_URL in challenges and metadata, and names the backend as authorization server', async () => {
    const res = await call(base, { token: 'unknown-token' });
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toContain('resource_metadata="https://sat.example/.well-known/oauth-protected-resource"');
    const prm = await getJson(`${base}/.well-known/oauth-protected-resource/mcp`);
    expect(prm.body.resource).toBe('https://sat.example/mcp');
    expect(prm.body.authorization_servers).toEqual([app.satellite.env.backend.url]);
  });

  it('re-publishes the backend\'s authorization server metadata', async () => {
    const backendUrl = app.satellite.env.backend.url!;
    for (const path of ['/.well-known/oauth-authorization-server', '/.well-known/openid-configuration']) {
      const { status, body } = await getJson(`${base}${path}`);
      expect(status).toBe(200);
      expect(body).toMatchObject({
        issuer: backendUrl,
        authorization_endpoint: `${backendUrl}/api/oauth2/auth`,
        token_endpoint: `${backendUrl}/api/oauth2/token`,
        introspection_endpoint: `${backendUrl}/api/oauth2/introspect`,
        registration_endpoint: `${backendUrl}/api/oauth2/register`,
        code_challenge_methods_supported: ['S256']
      });
    }
  });
});
