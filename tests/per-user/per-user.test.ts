import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { fixtureEntry, startTestApp, textJson, type TestApp } from '../budgets/helpers';

const TEAM = { id: 'team-p', slug: 'people' };
const ANN = 'token-user-ann-0123456789';
const BOB = 'token-user-bob-0123456789';
const CAY = 'token-user-cay-0123456789';
const DAN = 'token-user-dan-0123456789';

const doc = {
  teams: { [TEAM.id]: { slug: TEAM.slug } },
  tokens: { [ANN]: { team_id: TEAM.id, user_id: 'ann' }, [BOB]: { team_id: TEAM.id, user_id: 'bob' }, [CAY]: { team_id: TEAM.id, user_id: 'cay' }, [DAN]: { team_id: TEAM.id, user_id: 'dan' } },
  mcp_servers: {
    'notes-people-ann-inst': fixtureEntry('notes', TEAM, { user_id: 'ann', instance_id: 'i-ann', env: { USER_TOKEN: 'ann-secret' }, required_user_env: ['USER_TOKEN'] }),
    'notes-people-bob-inst': fixtureEntry('notes', TEAM, { user_id: 'bob', instance_id: 'i-bob', env: { USER_TOKEN: 'bob-secret' }, required_user_env: ['USER_TOKEN'] }),
    // Cay has not entered her token yet.
    'notes-people-cay-inst': fixtureEntry('notes', TEAM, { user_id: 'cay', instance_id: 'i-cay', env: {}, required_user_env: ['USER_TOKEN'], user_config_url: 'https://dash.example/servers/notes' }),
    shared: fixtureEntry('common', TEAM),
    // Ann has her own instance of the team's shared server: hers stands in for it.
    'common-people-ann-inst': fixtureEntry('common', TEAM, { user_id: 'ann', env: { USER_TOKEN: 'ann-own-common' } })
  }
};

describe('per-user server instances', () => {
  let t: TestApp;
  let app: FastifyInstance;
  let base: string;
  const client = (token: string, path?: string): Promise<Client> => t.client(token, path);

  beforeAll(async () => {
    t = await startTestApp(doc);
    app = t.app;
    base = t.base;
  });
  afterAll(() => t.close());

  it('each user reaches their own instance: own credentials, own writable directory', async () => {
    const ann = await client(ANN);
    const bob = await client(BOB);
    const a = textJson(await ann.callTool({ name: 'notes__whoami', arguments: {} }));
    const b = textJson(await bob.callTool({ name: 'notes__whoami', arguments: {} }));
    expect(a.token).toBe('ann-secret');
    expect(b.token).toBe('bob-secret');
    expect(a.pid).not.toBe(b.pid);
    expect(String(a.home)).toMatch(/users\/ann$/);
    expect(String(b.home)).toMatch(/users\/bob$/);

    // A file Ann writes is not in Bob's directory.
    const annFiles = textJson(await ann.callTool({ name: 'notes__write_note', arguments: { name: 'ann.txt', text: 'hello' } })).files;
    const bobFiles = textJson(await bob.callTool({ name: 'notes__write_note', arguments: { name: 'bob.txt', text: 'hi' } })).files;
    expect(annFiles).toContain('ann.txt');
    expect(bobFiles).toContain('bob.txt');
    expect(bobFiles).not.toContain('ann.txt');

    // The shared server is one process for Bob and Cay; Ann reaches her own instance of it instead.
    const cay = await client(CAY);
    const sb = textJson(await bob.callTool({ name: 'common__whoami', arguments: {} }));
    const sc = textJson(await cay.callTool({ name: 'common__whoami', arguments: {} }));
    const sa = textJson(await ann.callTool({ name: 'common__whoami', arguments: {} }));
    expect(sb.pid).toBe(sc.pid);
    expect(sb.token).toBeNull();
    expect(sa.token).toBe('ann-own-common');
    expect(sa.pid).not.toBe(sb.pid);
    const annTools = (await ann.listTools()).tools.map((t) => t.name);
    expect(annTools.filter((n) => n === 'common__whoami')).toHaveLength(1);
  });

  it('a user never reaches another user\'s instance, on the team endpoint or the pass-through', async () => {
    const bobPass = await client(BOB, '/servers/notes/mcp');
    const viaPass = textJson(await bobPass.callTool({ name: 'whoami', arguments: {} }));
    expect(viaPass.token).toBe('bob-secret');

    const annInstance = app.servers.get(TEAM.id, 'notes', 'ann')!;
    const before = annInstance.snapshot().requestCount ?? 0;
    const bob = await client(BOB);
    await bob.callTool({ name: 'notes__whoami', arguments: {} });
    expect(annInstance.snapshot().requestCount ?? 0).toBe(before);
    // Dan has no instance of it: the pass-through says it does not exist for him.
    await expect(client(DAN, '/servers/notes/mcp')).rejects.toThrow(/Unknown MCP server: notes/);
    // Bob's list has one 'notes' server: his own.
    const tools = (await bob.listTools()).tools.map((t) => t.name).filter((n) => n.startsWith('notes__'));
    expect(new Set(tools).size).toBe(tools.length);
  });

  it('an instance awaiting user configuration answers isError naming what to configure', async () => {
    const cay = await client(CAY);
    const result = await cay.callTool({ name: 'notes__whoami', arguments: {} });
    expect(result.isError).toBe(true);
    const text = (result.content as Array<{ text: string }>)[0]!.text;
    expect(text).toContain('USER_TOKEN');
    expect(text).toContain('https://dash.example/servers/notes');
    expect(text).toMatch(/not configured for you yet/);
    // Her list has the shared server's tools, none of the unconfigured instance.
    const names = (await cay.listTools()).tools.map((t) => t.name);
    expect(names).toContain('common__whoami');
    expect(names.some((n) => n.startsWith('notes__'))).toBe(false);
    expect(app.servers.get(TEAM.id, 'notes', 'cay')?.snapshot()).toMatchObject({ status: 'awaiting_user_config', userId: 'cay' });
  });

  it('team status lists instances by user, each user seeing their own', async () => {
    const status = async (token: string): Promise<Array<Record<string, unknown>>> => {
      const res = await fetch(`${base}/api/status/team`, { headers: { authorization: `Bearer ${token}` } });
      expect(res.status).toBe(200);
      return ((await res.json()) as { servers: Array<Record<string, unknown>> }).servers;
    };
    const cay = (await status(CAY)).find((s) => s.slug === 'notes');
    expect(cay).toMatchObject({ status: 'awaiting_user_config', userId: 'cay', instanceId: 'i-cay' });
    expect(cay?.statusMessage).toContain('USER_TOKEN');
    const ann = (await status(ANN)).filter((s) => s.slug === 'notes');
    expect(ann).toHaveLength(1);
    expect(ann[0]).toMatchObject({ status: 'online', userId: 'ann', instanceId: 'i-ann' });
    expect(ann[0]).not.toHaveProperty('statusMessage');
    // The shared server has no owner.
    expect((await status(ANN)).find((s) => s.slug === 'common')).not.toHaveProperty('userId');
  });
});
