// The backend-mode setup shared by the reliability tests: the fake backend configures one stdio
// server (the mini server) for team-a and accepts one client token for it by introspection.
import { fileURLToPath } from 'node:url';
import type { FakeBackend } from '../fake-backend/server';

export const MINI = fileURLToPath(new URL('../fixtures/servers/mini-server.mjs', import.meta.url));

export function serveMiniToTeamA(fake: FakeBackend, clientToken: string): void {
  fake.config = {
    mcp_servers: {
      'inst-mini': {
        installation_id: 'inst-mini', team_id: 'team-a', team_slug: 'team-a', server_slug: 'mini', installation_name: 'mini-a',
        transport_type: 'stdio', command: 'node', args: [MINI], env: {}, enabled: true
      }
    }
  };
  fake.introspection.set(clientToken, { active: true, sub: 'alice', team_id: 'team-a', scope: 'mcp:read mcp:tools:execute', client_id: 'test' });
}
