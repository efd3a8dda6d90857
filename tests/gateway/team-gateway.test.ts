import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TeamGateway } from '../../src/gateway/team-gateway';
import { JsonRpcError, type JsonObject } from '../../src/mcp/jsonrpc';
import { MINI, server, waitFor as waitForEvent } from '../servers/helpers';
import { startMcpHttpServer, type TestMcpServer } from '../remote/helpers/mcp-http-server';
import { remote, startGateway, team, TestSession, textOf, waitFor, type GatewayHarness } from './harness';

/** Tools of one test MCP server (tests/remote/helpers/mcp-http-server.ts). */
const FIXTURE_TOOLS = 6;

describe('team gateway over a real registry (stdio + remote)', () => {
  let web: TestMcpServer;
  let webB: TestMcpServer;
  let personal: TestMcpServer;
  let h: GatewayHarness;
  let bob: TestSession;

  beforeAll(async () => {
    web = await startMcpHttpServer({ name: 'web-a' });
    webB = await startMcpHttpServer({ name: 'web-b' });
    personal = await startMcpHttpServer({ name: 'alice-own' });
    h = await startGateway([
      server('mini1', [MINI]),
      server('mini2', [MINI], { disabled_tools: ['garbage'] }),
      server('crashy', [MINI, '--crash-after-init=30']),
      remote('web', web.url, { headers: { Authorization: 'Bearer team-a' } }),
      remote('personal', personal.url, { user_id: 'alice' }),
      remote('web', webB.url, { team_id: 'team-b', team_slug: 'beta', headers: { Authorization: 'Bearer team-b' } })
    ], { pageSize: 7 });
    bob = new TestSession(h.gateway, team('team-a', 'bob'));
    await bob.init();
    await waitForEvent(() => h.registry.get('team-a', 'crashy')?.status === 'permanently_failed', 5000, 'crashy to fail for good');
  });
  afterAll(async () => {
    await h?.close();
    await Promise.all([web, webB, personal].map((s) => s?.stop()));
  });

  it('answers initialize with its own serverInfo and capabilities', async () => {
    const r = await bob.init();
    expect(r.serverInfo).toMatchObject({ name: 'satellite' });
    expect(r.capabilities).toMatchObject({ tools: { listChanged: true }, resources: { subscribe: true, listChanged: true }, prompts: { listChanged: true }, completions: {}, logging: {} });
  });

  it('lists every usable server of the team, namespaced, paginated', async () => {
    const first = await bob.request('tools/list', {});
    expect((first.tools as unknown[]).length).toBe(7);
    expect(typeof first.nextCursor).toBe('string');
    const names = await bob.toolNames();
    expect(names).toContain('mini1__echo');
    expect(names).toContain('mini2__echo');
    expect(names).toContain('web__echo');
    expect(names).not.toContain('mini2__garbage');
    expect(names.some((n) => n.startsWith('crashy__'))).toBe(false);
    expect(names.some((n) => n.startsWith('personal__'))).toBe(false);
    for (const n of names) expect(n).toMatch(/^[a-z0-9_-]+__[A-Za-z0-9_.-]+$/);
    expect(new Set(names).size).toBe(names.length);
  });

  it('refuses a bad cursor with -32602', async () => {
    const err = await bob.request('tools/list', { cursor: 'not-a-cursor' }).catch((e) => e);
    expect(err).toBeInstanceOf(JsonRpcError);
    expect((err as JsonRpcError).code).toBe(-32602);
  });

  it('routes calls to the owning server under the original name', async () => {
    expect(textOf(await bob.request('tools/call', { name: 'web__echo', arguments: { text: 'hi' } }))).toBe('web-a:hi');
    const r = await bob.request('tools/call', { name: 'mini1__echo', arguments: { a: 1 } });
    expect(r.structuredContent).toEqual({ echo: { a: 1 } });
  });

  it('answers an unknown tool with -32602', async () => {
    for (const name of ['web__nope', 'nosuchserver__echo', 'plain']) {
      const err = await bob.request('tools/call', { name, arguments: {} }).catch((e) => e);
      expect(err).toBeInstanceOf(JsonRpcError);
      expect((err as JsonRpcError).code).toBe(-32602);
    }
  });

  it('tells a model why a permanently failed server cannot run a tool', async () => {
    const r = await bob.request('tools/call', { name: 'crashy__echo', arguments: {} });
    expect(r.isError).toBe(true);
    expect(textOf(r)).toMatch(/^Server 'crashy' is permanently failed after \d+ crashes; ask an administrator to restart it\.$/);
  });

  it('refuses a disabled tool with an isError result', async () => {
    const r = await bob.request('tools/call', { name: 'mini2__garbage', arguments: {} });
    expect(r.isError).toBe(true);
    expect(textOf(r)).toMatch(/disabled/);
  });

  it('passes progress and server→client requests of a routed call through the request context', async () => {
    bob.inCall.length = 0;
    await bob.request('tools/call', { name: 'web__progress', arguments: {}, _meta: { progressToken: 'tok-1' } });
    const progress = bob.inCall.filter((n) => n.method === 'notifications/progress');
    expect(progress.map((n) => n.params?.progressToken)).toEqual(['tok-1', 'tok-1', 'tok-1']);
    bob.inCall.length = 0;
    await bob.request('tools/call', { name: 'mini1__progress', arguments: {}, _meta: { progressToken: 9 } });
    expect(bob.inCall.filter((n) => n.method === 'notifications/progress').map((n) => n.params?.progressToken)).toEqual([9, 9, 9]);
    bob.answerSampling = async () => ({ role: 'assistant', content: { type: 'text', text: 'sure' }, model: 'm' });
    expect(textOf(await bob.request('tools/call', { name: 'web__ask', arguments: {} }))).toBe('client said: sure');
  });

  it('filters server logs of a call by the level each session asked for', async () => {
    const dave = new TestSession(h.gateway, team('team-a', 'dave'));
    await dave.init();
    expect(await dave.request('logging/setLevel', { level: 'debug' })).toEqual({});
    expect(await bob.request('logging/setLevel', { level: 'warning' })).toEqual({});
    bob.inCall.length = 0;
    await bob.request('tools/call', { name: 'web__progress', arguments: {} });
    await dave.request('tools/call', { name: 'web__progress', arguments: {} });
    expect(bob.inCall.some((n) => n.method === 'notifications/message')).toBe(false);
    expect(dave.inCall.filter((n) => n.method === 'notifications/message').map((n) => n.params?.data)).toEqual(['progress done on web-a']);
    const bad = await bob.request('logging/setLevel', { level: 'loud' }).catch((e) => e);
    expect((bad as JsonRpcError).code).toBe(-32602);
    dave.handler.close('test');
  });

  it('keeps two teams with the same slug apart (tools, calls, credentials, cache)', async () => {
    const carol = new TestSession(h.gateway, team('team-b', 'carol'));
    await carol.init();
    const names = await carol.toolNames();
    expect(names.every((n) => n.startsWith('web__'))).toBe(true);
    const whoB = JSON.parse(textOf(await carol.request('tools/call', { name: 'web__whoami', arguments: {} })));
    const whoA = JSON.parse(textOf(await bob.request('tools/call', { name: 'web__whoami', arguments: {} })));
    expect(whoB).toMatchObject({ server: 'web-b', authorization: 'Bearer team-b' });
    expect(whoA).toMatchObject({ server: 'web-a', authorization: 'Bearer team-a' });
    const err = await carol.request('tools/call', { name: 'mini1__echo', arguments: {} }).catch((e) => e);
    expect((err as JsonRpcError).code).toBe(-32602);
    // A runtime toggle in team-b does not touch team-a's web server.
    h.gateway.setToolDisabled('team-b', 'web', 'echo', true);
    expect(await carol.toolNames()).not.toContain('web__echo');
    expect(await bob.toolNames()).toContain('web__echo');
    expect(carol.outbound.some((n) => n.method === 'notifications/tools/list_changed')).toBe(true);
    h.gateway.setToolDisabled('team-b', 'web', 'echo', false);
    // By installation id, as the backend's update_tool_status names it.
    carol.outbound.length = 0;
    expect(h.gateway.setToolDisabledByInstallation('inst-web-team-b', 'whoami', true)).toBe(true);
    expect(await carol.toolNames()).not.toContain('web__whoami');
    expect(await bob.toolNames()).toContain('web__whoami');
    expect(carol.outbound.map((n) => n.method)).toEqual(['notifications/tools/list_changed']);
    const refused = await carol.request('tools/call', { name: 'web__whoami', arguments: {} });
    expect(refused.isError).toBe(true);
    h.gateway.setToolDisabledByInstallation('inst-web-team-b', 'whoami', false);
    expect(h.gateway.toolCounts('team-b')).toEqual([{ serverSlug: 'web', tools: FIXTURE_TOOLS }]);
    expect(h.gateway.toolCounts('team-a').map((c) => c.serverSlug).sort()).toEqual(['mini1', 'mini2', 'web']);
    carol.handler.close('test');
  });

  it('shows a per-user server to its owner only', async () => {
    const alice = new TestSession(h.gateway, team('team-a', 'alice'));
    await alice.init();
    expect(await alice.toolNames()).toContain('personal__echo');
    expect(await bob.toolNames()).not.toContain('personal__echo');
    expect(textOf(await alice.request('tools/call', { name: 'personal__echo', arguments: { text: 'mine' } }))).toBe('alice-own:mine');
    // Both of alice's remote servers offer res://shared/readme: the first slug wins, deterministically.
    const read = await alice.request('resources/read', { uri: 'res://shared/readme' });
    expect((read.contents as Array<{ text: string }>)[0]!.text).toBe('alice-own read res://shared/readme');
    const resources = (await alice.request('resources/list')).resources as Array<{ uri: string }>;
    expect(resources.filter((r) => r.uri === 'res://shared/readme')).toHaveLength(1);
    alice.handler.close('test');
  });

  it('logs, once, a server left out of the lists and a URI two servers offer', async () => {
    const lines: Array<{ msg: string; server_slug?: string; reason?: string }> = [];
    const log = pino({ level: 'info' }, { write: (l: string) => void lines.push(JSON.parse(l)) });
    const gw = new TeamGateway({ servers: h.registry, log });
    const alice = new TestSession(gw, team('team-a', 'alice'));
    await alice.init();
    await alice.toolNames();
    await alice.toolNames();
    const leftOut = lines.filter((l) => l.msg.includes('left out'));
    expect(leftOut).toEqual([expect.objectContaining({ server_slug: 'crashy', msg: "server 'crashy' left out of the team's lists", reason: 'permanently failed' })]);
    const dup = lines.filter((l) => l.msg.includes('resource URI offered by two servers'));
    expect(dup).toHaveLength(1);
    expect(dup[0]!.msg).toBe("resource URI offered by two servers: 'personal' serves it, 'web' is ignored");
    alice.handler.close('test');
    gw.close();
  });

  it('aggregates and routes resources, templates, prompts and completions', async () => {
    const resources = (await bob.request('resources/list')).resources as Array<{ uri: string }>;
    expect(resources.map((r) => r.uri)).toEqual(['res://web-a/info', 'res://shared/readme']);
    const templates = (await bob.request('resources/templates/list')).resourceTemplates as Array<{ uriTemplate: string }>;
    expect(templates.map((t) => t.uriTemplate)).toEqual(['res://web-a/items/{id}']);
    const item = await bob.request('resources/read', { uri: 'res://web-a/items/42' });
    expect((item.contents as Array<{ text: string }>)[0]!.text).toBe('web-a read res://web-a/items/42');
    const missing = await bob.request('resources/read', { uri: 'res://nobody/x' }).catch((e) => e);
    expect((missing as JsonRpcError).code).toBe(-32002);
    const prompts = (await bob.request('prompts/list')).prompts as Array<{ name: string }>;
    expect(prompts.map((p) => p.name)).toEqual(['web__greet']);
    const prompt = await bob.request('prompts/get', { name: 'web__greet', arguments: { who: 'bob' } });
    expect(((prompt.messages as JsonObject[])[0]!.content as { text: string }).text).toBe('web-a greets bob');
    const c = await bob.request('completion/complete', { ref: { type: 'ref/prompt', name: 'web__greet' }, argument: { name: 'who', value: 'b' } });
    expect((c.completion as { values: string[] }).values).toEqual(['web-a-b']);
    expect(await bob.request('resources/subscribe', { uri: 'res://web-a/info' })).toEqual({});
    await web.resourceUpdated('res://web-a/info');
    await waitFor(() => bob.outbound.some((n) => n.method === 'notifications/resources/updated'), 3000, 'resources/updated');
  });

  it('fans out list_changed when a server says its tools changed, and lists the new tool', async () => {
    const carol = new TestSession(h.gateway, team('team-b', 'carol'));
    await carol.init();
    await carol.toolNames();
    bob.outbound.length = 0;
    web.extraTools = ['fresh'];
    await web.toolsChanged();
    await waitFor(() => bob.outbound.some((n) => n.method === 'notifications/tools/list_changed'), 3000, 'list_changed');
    expect(carol.outbound.some((n) => n.method === 'notifications/tools/list_changed')).toBe(false);
    expect(await bob.toolNames()).toContain('web__fresh');
    expect(textOf(await bob.request('tools/call', { name: 'web__fresh', arguments: {} }))).toBe('web-a ran fresh');
    carol.handler.close('test');
  });

  it('leaves a down remote server out, says why on a call, and takes it back when it recovers', async () => {
    await web.stop();
    const r = await bob.request('tools/call', { name: 'web__echo', arguments: { text: 'x' } });
    expect(r.isError).toBe(true);
    expect(textOf(r)).toMatch(/^Server 'web' is unavailable right now \(Server 'web' is unreachable/);
    await waitFor(async () => !(await bob.toolNames()).includes('web__echo'), 3000, 'web to leave the list');
    expect(await bob.toolNames()).toContain('mini1__echo');
    await web.start();
    await waitFor(async () => (await bob.toolNames()).includes('web__echo'), 5000, 'web to come back');
    expect(textOf(await bob.request('tools/call', { name: 'web__echo', arguments: { text: 'back' } }))).toBe('web-a:back');
  });

  it('tells clients when an idle remote server goes down and when it is back, without any call', async () => {
    const upstream = h.registry.get('team-a', 'web')!;
    await waitFor(() => upstream.status === 'online', 3000, 'web online');
    await waitFor(() => web.seen.some((r) => r.method === 'GET' && r.sessionId !== undefined), 3000, 'GET stream');
    bob.outbound.length = 0;
    await web.stop();
    await waitFor(() => bob.outbound.some((n) => n.method === 'notifications/tools/list_changed'), 5000, 'list_changed on down');
    expect(await bob.toolNames()).not.toContain('web__echo');
    bob.outbound.length = 0;
    await web.start();
    await waitFor(() => bob.outbound.some((n) => n.method === 'notifications/tools/list_changed'), 8000, 'list_changed on recovery');
    expect(await bob.toolNames()).toContain('web__echo');
  });
});

describe('meta-tool mode', () => {
  let web: TestMcpServer;
  let h: GatewayHarness;
  beforeAll(async () => {
    web = await startMcpHttpServer({ name: 'web-a' });
    h = await startGateway([
      server('mini1', [MINI]),
      remote('web', web.url),
      remote('other', web.url, { team_id: 'team-b', team_slug: 'beta' })
    ], { metaTools: (teamId) => teamId === 'team-a' });
  });
  afterAll(async () => {
    await h?.close();
    await web?.stop();
  });

  it('exposes discover/execute instead of the catalog and runs a found tool', async () => {
    const s = new TestSession(h.gateway, team('team-a', 'bob'));
    await s.init();
    expect(await s.toolNames()).toEqual(['discover_mcp_tools', 'execute_mcp_tool']);
    const found = JSON.parse(textOf(await s.request('tools/call', { name: 'discover_mcp_tools', arguments: { query: 'echo text', limit: 3 } })));
    expect(found.tools.length).toBeGreaterThan(0);
    expect(found.tools.length).toBeLessThanOrEqual(3);
    expect(found.tools[0]).toMatchObject({ tool_path: 'web__echo', server_name: 'web', transport: 'http' });
    expect(found.tools.every((t: { tool_path: string }) => !t.tool_path.startsWith('other__'))).toBe(true);
    const all = JSON.parse(textOf(await s.request('tools/call', { name: 'discover_mcp_tools', arguments: { query: '*', limit: 50 } })));
    const counts = h.gateway.toolCounts('team-a');
    expect(counts.map((c) => c.serverSlug).sort()).toEqual(['mini1', 'web']);
    expect(all.total_found).toBe(counts.reduce((n, c) => n + c.tools, 0));
    const run = await s.request('tools/call', { name: 'execute_mcp_tool', arguments: { tool_path: found.tools[0].tool_path, arguments: { text: 'meta' } } });
    expect(textOf(run)).toBe('web-a:meta');
    const colon = await s.request('tools/call', { name: 'execute_mcp_tool', arguments: { tool_path: 'web:echo', arguments: { text: 'colon' } } });
    expect(textOf(colon)).toBe('web-a:colon');
    const unknown = await s.request('tools/call', { name: 'execute_mcp_tool', arguments: { tool_path: 'other__echo' } });
    expect(unknown.isError).toBe(true);
    expect(textOf(unknown)).toMatch(/discover_mcp_tools/);
  });

  it('filters by team before limiting', async () => {
    const s = new TestSession(h.gateway, team('team-b', 'carol'), true);
    await s.init();
    const found = JSON.parse(textOf(await s.request('tools/call', { name: 'discover_mcp_tools', arguments: { query: '*', limit: 5 } })));
    expect(found.total_found).toBe(FIXTURE_TOOLS);
    expect(found.tools).toHaveLength(5);
    expect(found.tools.every((t: { tool_path: string }) => t.tool_path.startsWith('other__'))).toBe(true);
  });
});

describe('a remote server that never answers', () => {
  let h: GatewayHarness;
  let hang: Server;
  beforeAll(async () => {
    hang = createServer(() => undefined);
    await new Promise<void>((r) => hang.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(hang.address() as AddressInfo).port}/mcp`;
    h = await startGateway([server('mini1', [MINI]), remote('stuck', url, { timeout: 400 })], { listWaitMs: 300 });
  });
  afterAll(async () => {
    await h?.close();
    hang.closeAllConnections();
    await new Promise((r) => hang.close(r));
  });

  it('lists the others, leaves it out, and a call says it did not answer', async () => {
    const s = new TestSession(h.gateway, team('team-a', 'bob'));
    await s.init();
    const names = await s.toolNames();
    expect(names).toContain('mini1__echo');
    expect(names.some((n) => n.startsWith('stuck__'))).toBe(false);
    const r = await s.request('tools/call', { name: 'stuck__echo', arguments: {} });
    expect(r.isError).toBe(true);
    expect(textOf(r)).toMatch(/^Server 'stuck' is unavailable right now \(Server 'stuck' did not answer within 400 ms/);
  });
});
