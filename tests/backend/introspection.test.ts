import { describe, expect, it } from 'vitest';
import { backendEnv, newToken, startSatellite, waitFor, withBackend } from './helpers';

describe('auth wiring in backend mode', () => {
  it('introspects client tokens at the backend with the satellite API key, and invalidate_user_token_cache clears them', async () => {
    await withBackend(async ({ fake, dir, apps }) => {
      const app = await startSatellite(backendEnv(fake, dir, newToken(fake)));
      apps.push(app);
      await waitFor('connection', () => app.backend?.state === 'connected');
      fake.introspection.set('client-token-0123456789', { active: true, sub: 'user-7', team_id: 'team-a', scope: 'mcp:read mcp:tools:execute', client_id: 'vscode' });
      const identity = await app.auth.verify('client-token-0123456789');
      expect(identity).toMatchObject({ teamId: 'team-a', userId: 'user-7', anonymous: false });
      const call = fake.requests.find((r) => r.path === '/api/oauth2/introspect');
      expect(call).toMatchObject({ auth: `Bearer ${fake.apiKey}`, body: { token: 'client-token-0123456789' } });

      const cmd = fake.queueCommand({ command_type: 'invalidate_user_token_cache', payload: { user_id: 'user-7' } });
      await app.backend!.pollCommands();
      expect(fake.results.find((r) => r.command_id === cmd.id)).toMatchObject({ status: 'completed', result: { user_id: 'user-7', invalidated_count: 1 } });
      // The cache entry is gone: the next check asks the backend again, which has revoked it meanwhile.
      fake.introspection.delete('client-token-0123456789');
      await expect(app.auth.verify('client-token-0123456789')).rejects.toThrow(/invalid|revoked/);
    });
  });

  it('retrieves upstream OAuth tokens and their status for an installation and user', async () => {
    await withBackend(async ({ fake, dir, apps }) => {
      const app = await startSatellite(backendEnv(fake, dir, newToken(fake)));
      apps.push(app);
      await waitFor('connection', () => app.backend?.state === 'connected');
      const ref = { installation_id: 'inst-1', user_id: 'user-7', team_id: 'team-a' };
      const client = app.backend!.client;
      expect(await client.retrieveUpstreamToken(ref)).toBeUndefined();
      expect(await client.upstreamTokenStatus(ref)).toMatchObject({ exists: false });
      fake.upstreamTokens.set('inst-1:user-7:team-a', { access_token: 'upstream-access', refresh_token: null, token_type: 'Bearer', expires_at: null, scope: null });
      expect(await client.retrieveUpstreamToken(ref)).toMatchObject({ access_token: 'upstream-access', token_type: 'Bearer' });
      expect(await client.upstreamTokenStatus(ref)).toMatchObject({ exists: true, expired: false });
      const call = fake.requests.filter((r) => r.path.endsWith('/tokens/retrieve')).at(-1)!;
      expect(call).toMatchObject({ path: `/api/satellites/${fake.satelliteId}/tokens/retrieve`, auth: `Bearer ${fake.apiKey}`, body: ref });
    });
  });
});
