import { describe, expect, it } from 'vitest';
import { templatePattern } from '../../src/gateway/catalog-index';
import { changedTeams } from '../../src/gateway/config-diff';
import { paginate } from '../../src/gateway/cursor';
import { normalizeToolPath } from '../../src/gateway/meta-tools';
import { splitName } from '../../src/gateway/naming';
import { searchTools } from '../../src/gateway/tool-search';
import { parseStandaloneConfig } from '../../src/config/standalone';
import { JsonRpcError } from '../../src/mcp/jsonrpc';

describe('names', () => {
  it('splits by the longest known slug', () => {
    expect(splitName('a__b__tool', ['a', 'a__b'])).toEqual({ slug: 'a__b', name: 'tool' });
    expect(splitName('a__b__tool', ['a'])).toEqual({ slug: 'a', name: 'b__tool' });
    expect(splitName('github__', ['github'])).toBeUndefined();
    expect(splitName('other__x', ['github'])).toBeUndefined();
  });

  it('accepts the original colon tool paths', () => {
    expect(normalizeToolPath('github:create_issue')).toBe('github__create_issue');
    expect(normalizeToolPath('github__create_issue')).toBe('github__create_issue');
  });
});

describe('cursors', () => {
  const items = Array.from({ length: 25 }, (_, i) => i);
  it('walks every item once and refuses foreign or forged cursors', () => {
    const seen: number[] = [];
    let cursor: string | undefined;
    for (let i = 0; i < 10; i++) {
      const r = paginate(items, 'tools', cursor, 10);
      seen.push(...r.page);
      cursor = r.nextCursor;
      if (!cursor) break;
    }
    expect(seen).toEqual(items);
    const second = paginate(items, 'tools', undefined, 10).nextCursor;
    for (const bad of ['garbage', 42, Buffer.from('{"k":"tools","o":-1}').toString('base64url'), Buffer.from('{"k":"tools","o":99}').toString('base64url')]) {
      expect(() => paginate(items, 'tools', bad, 10)).toThrow(JsonRpcError);
    }
    expect(() => paginate(items, 'prompts', second, 10)).toThrow(/invalid cursor/);
  });
});

describe('tool search', () => {
  const tools = [
    { name: 'create_issue', description: 'Create a GitHub issue in a repository', slug: 'github' },
    { name: 'list_issues', description: 'List issues of a repository', slug: 'github' },
    { name: 'send_message', description: 'Post a message to a Slack channel', slug: 'slack' },
    { name: 'read_file', description: 'Read a file from disk', slug: 'files' }
  ];
  it('ranks name matches first, tolerates a typo, and lists all for *', () => {
    expect(searchTools('create issue', tools, 10)[0]!.tool.name).toBe('create_issue');
    expect(searchTools('slack', tools, 10).map((h) => h.tool.name)).toEqual(['send_message']);
    expect(searchTools('isue', tools, 10).map((h) => h.tool.name).sort()).toEqual(['create_issue', 'list_issues']);
    expect(searchTools('*', tools, 3)).toHaveLength(3);
    expect(searchTools('kubernetes', tools, 10)).toEqual([]);
  });
});

describe('resource templates', () => {
  it('matches expansions of RFC 6570 templates', () => {
    expect(templatePattern('res://x/items/{id}').test('res://x/items/42')).toBe(true);
    expect(templatePattern('res://x/items/{id}').test('res://x/items/4/2')).toBe(false);
    expect(templatePattern('file:///{+path}').test('file:///a/b/c.txt')).toBe(true);
    expect(templatePattern('api://s{?q,limit}').test('api://s?q=1&limit=2')).toBe(true);
    expect(templatePattern('a.b://{x}').test('aXb://1')).toBe(false);
  });
});

describe('config diff', () => {
  const base = { installation_id: 'i', team_id: 't1', team_slug: 'one', server_slug: 's', installation_name: 's', transport_type: 'http', url: 'http://127.0.0.1:1/mcp', enabled: true };
  it('names the teams whose servers or settings changed', () => {
    const a = parseStandaloneConfig({ mcp_servers: { s: base, u: { ...base, team_id: 't2', team_slug: 'two' } } }, 'a');
    const b = parseStandaloneConfig({ mcp_servers: { s: { ...base, headers: { x: '1' } }, u: { ...base, team_id: 't2', team_slug: 'two' } } }, 'b');
    expect([...changedTeams(b, a)]).toEqual(['t1']);
    expect([...changedTeams(a, a)]).toEqual([]);
  });
});
