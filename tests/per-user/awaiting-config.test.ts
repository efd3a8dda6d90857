import { describe, expect, it } from 'vitest';
import { parseStandaloneConfig } from '../../src/config/standalone';
import { awaitsUserConfig, userConfigGuidance } from '../../src/servers/awaiting-config';
import { fixtureEntry } from '../budgets/helpers';

const TEAM = { id: 'team-p', slug: 'people' };

describe('entries awaiting user configuration', () => {
  it('are recognised by status or by missing required env and headers, whatever their case', () => {
    expect(awaitsUserConfig(fixtureEntry('a', TEAM, { user_id: 'u', status: 'awaiting_user_config' }))).toBe(true);
    expect(awaitsUserConfig(fixtureEntry('a', TEAM, { user_id: 'u', required_user_env: ['KEY'], env: { KEY: '' } }))).toBe(true);
    expect(awaitsUserConfig(fixtureEntry('a', TEAM, { user_id: 'u', required_user_env: ['KEY'], env: { KEY: 'v' } }))).toBe(false);
    expect(awaitsUserConfig(fixtureEntry('a', TEAM, { user_id: 'u', required_user_headers: ['X-Api-Key'], headers: { 'x-api-key': 'v' } }))).toBe(false);
    expect(awaitsUserConfig(fixtureEntry('a', TEAM, { user_id: 'u', required_user_headers: ['X-Api-Key'] }))).toBe(true);
    // Another instance status from the backend changes nothing.
    expect(awaitsUserConfig(fixtureEntry('a', TEAM, { status: 'running' }))).toBe(false);
  });

  it('name what is missing and where to set it, never a value', () => {
    const entry = fixtureEntry('notes', TEAM, {
      user_id: 'u', required_user_env: ['KEY', 'OTHER'], env: { OTHER: 'secret-value' }, required_user_headers: ['Authorization']
    });
    const text = userConfigGuidance(entry);
    expect(text).toBe("Server 'notes' is not configured for you yet: set environment variable KEY and header Authorization in your personal configuration of 'notes-people-u' in the DeployStack dashboard, then try again.");
    expect(text).not.toContain('secret-value');
    expect(userConfigGuidance(fixtureEntry('notes', TEAM, { status: 'awaiting_user_config', user_config_url: 'https://dash.example/x' })))
      .toBe("Server 'notes' is not configured for you yet: complete your personal configuration of 'notes-people' at https://dash.example/x, then try again.");
  });

  it('validate in the config file, with a clear error for a bad field', () => {
    const ok = parseStandaloneConfig({ mcp_servers: { a: fixtureEntry('a', TEAM, { status: 'running', required_user_env: ['K'] }) } }, 'test');
    expect(ok.mcp_servers.a?.required_user_env).toEqual(['K']);
    expect(() => parseStandaloneConfig({ mcp_servers: { a: { ...fixtureEntry('a', TEAM), user_config_url: 'javascript:alert(1)' } } }, 'test'))
      .toThrow(/at \/mcp_servers\/a\/user_config_url/);
    expect(() => parseStandaloneConfig({ teams: { [TEAM.id]: { slug: TEAM.slug, budgets: { memory_mb: -1 } } }, mcp_servers: {} }, 'test'))
      .toThrow(/at \/teams\/team-p\/budgets\/memory_mb/);
  });
});
