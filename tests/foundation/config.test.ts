import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { loadEnv } from '../../src/config/env';
import { ENV_SPEC } from '../../src/config/env-spec';
import { loadStandaloneConfig, parseStandaloneConfig } from '../../src/config/standalone';
import { assertSafeBind } from '../../src/config/bind-guard';
import { ConfigError } from '../../src/config/config-error';

describe('environment', () => {
  it('has the documented defaults', () => {
    const env = loadEnv({});
    expect(env.port).toBe(3001);
    expect(env.host).toBe('127.0.0.1');
    expect(env.sandbox).toBe('auto');
    expect(env.events).toEqual({ batchIntervalMs: 3000, maxBatchSize: 100, maxQueueSize: 10000, flushTimeoutMs: 5000 });
  });

  it.each([
    ['PORT', 'abc', /PORT="abc": expected an integer from 0 to 65535/],
    ['PORT', '70000', /PORT="70000"/],
    ['SANDBOX', 'docker', /SANDBOX="docker": expected one of auto, none, bwrap, nsjail/],
    ['LOG_LEVEL', 'loud', /LOG_LEVEL/],
    ['DEPLOYSTACK_BACKEND_URL', 'ftp://x', /DEPLOYSTACK_BACKEND_URL="ftp:\/\/x": expected an http\(s\) URL/],
    ['EVENT_MAX_BATCH_SIZE', '500', /EVENT_MAX_BATCH_SIZE="500": expected an integer from 1 to 100/]
  ])('rejects %s=%s naming the variable', (name, value, pattern) => {
    expect(() => loadEnv({ [name]: value })).toThrow(ConfigError);
    expect(() => loadEnv({ [name]: value })).toThrow(pattern);
  });

  it('requires the registration settings in backend mode', () => {
    expect(() => loadEnv({ DEPLOYSTACK_BACKEND_URL: 'http://127.0.0.1:3000' })).toThrow(/DEPLOYSTACK_SATELLITE_NAME/);
    expect(() => loadEnv({ DEPLOYSTACK_BACKEND_URL: 'http://127.0.0.1:3000', DEPLOYSTACK_SATELLITE_NAME: 'sat-one-test', DEPLOYSTACK_REGISTRATION_TOKEN: 'nope' })).toThrow(/DEPLOYSTACK_REGISTRATION_TOKEN/);
  });

  it('documents every variable in .env.example', () => {
    const example = readFileSync(new URL('../../.env.example', import.meta.url), 'utf8');
    for (const spec of ENV_SPEC) expect(example, spec.name).toMatch(new RegExp(`^#? ?${spec.name}=`, 'm'));
  });
});

describe('standalone config file', () => {
  it('loads the repository default', () => {
    const cfg = loadStandaloneConfig('config/satellite.json');
    expect(cfg.anonymous?.team_id).toBe('team-demo');
    expect(Object.values(cfg.mcp_servers)[0]).toMatchObject({ transport_type: 'stdio', enabled: true });
  });

  it('names the bad path inside the file', () => {
    const bad = { mcp_servers: { a: { installation_id: 'i', team_id: 't', team_slug: 'x', server_slug: 's', installation_name: 'n', transport_type: 'stdio', command: 7 } } };
    expect(() => parseStandaloneConfig(bad, 'f.json')).toThrow('Invalid config file f.json at /mcp_servers/a/command: must be string');
  });

  it('requires a command for stdio and a url for http servers', () => {
    const base = { installation_id: 'i', team_id: 't', team_slug: 'x', server_slug: 's', installation_name: 'n' };
    expect(() => parseStandaloneConfig({ mcp_servers: { a: { ...base, transport_type: 'stdio' } } }, 'f')).toThrow(/\/mcp_servers\/a: must have required property 'command'/);
    expect(() => parseStandaloneConfig({ mcp_servers: { a: { ...base, transport_type: 'http' } } }, 'f')).toThrow(/\/mcp_servers\/a: must have required property 'url'/);
  });

  it('rejects unknown keys and tokens of unknown teams without printing the token', () => {
    expect(() => parseStandaloneConfig({ mcp_servers: {}, extra: 1 }, 'f')).toThrow(/at \/: must NOT have additional properties \(extra\)/);
    let message = '';
    try {
      parseStandaloneConfig({ mcp_servers: {}, tokens: { 'supersecrettoken-123456': { team_id: 'nope' } } }, 'f');
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toMatch(/unknown team "nope"/);
    expect(message).not.toContain('supersecrettoken');
  });

  it('accepts network "host" or "none" for a server and nothing else', () => {
    const base = { installation_id: 'i', team_id: 't', team_slug: 'x', server_slug: 's', installation_name: 'n', transport_type: 'stdio', command: 'node' };
    expect(parseStandaloneConfig({ mcp_servers: { a: { ...base, network: 'none' } } }, 'f').mcp_servers.a!.network).toBe('none');
    expect(() => parseStandaloneConfig({ mcp_servers: { a: { ...base, network: 'off' } } }, 'f')).toThrow('at /mcp_servers/a/network: must be equal to one of the allowed values');
  });

  it('allows anonymous access only for a single-team config', () => {
    const srv = (team: string) => ({ installation_id: `i-${team}`, team_id: team, team_slug: team, server_slug: 's', installation_name: team, transport_type: 'stdio', command: 'node' });
    expect(() => parseStandaloneConfig({ anonymous: { team_id: 'a' }, mcp_servers: { a: srv('a') } }, 'f')).not.toThrow();
    expect(() => parseStandaloneConfig({ anonymous: { team_id: 'a' }, mcp_servers: { a: srv('a'), b: srv('b') } }, 'f'))
      .toThrow('Invalid config file f at /anonymous: token-less access is only allowed when the config has a single team (it has 2)');
  });

  it('refuses a non-loopback bind without authentication', () => {
    const cfg = parseStandaloneConfig({ mcp_servers: {} }, 'f');
    expect(() => assertSafeBind(loadEnv({ HOST: '0.0.0.0' }), cfg)).toThrow(/SATELLITE_ALLOW_INSECURE_BIND/);
    expect(() => assertSafeBind(loadEnv({ HOST: '0.0.0.0', SATELLITE_ALLOW_INSECURE_BIND: 'true' }), cfg)).not.toThrow();
    expect(() => assertSafeBind(loadEnv({ HOST: '127.0.0.1' }), cfg)).not.toThrow();
  });
});
