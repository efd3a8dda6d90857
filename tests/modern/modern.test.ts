// 2026-07-28 clients beside 2025 clients on the same endpoints: a real app, the conformance fixture
// (with its 2026 tools) as real stdio servers, modern requests over raw fetch, 2025 ones with the SDK.
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { ElicitRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FIXTURE } from '../conformance/harness';
import { headers, initBody, sseReader, server, startApp, TOKEN_A, TOKEN_A_BOB, TOKEN_B } from '../transports/helpers';
import { MODERN, modern, modernBody, modernHeaders } from './helpers';

const MINI = fileURLToPath(new URL('../fixtures/servers/mini-server.mjs', import.meta.url));
const TOKEN_READ_ONLY = 'token-team-a-reader-0123456789abcdef';
const ELICIT = 'next__test_input_required_result_elicitation';

let app: FastifyInstance;
let base: string;
let team: string;
let next: string;

beforeAll(async () => {
  ({ app, base } = await startApp({}, {
    next: { ...server('team-a', 'next', [FIXTURE, '--2026']), installation_id: 'inst-a-next' },
    mini: { ...server('team-a', 'mini', [MINI]), installation_id: 'inst-a-mini' },
    minires: { ...server('team-a', 'minires', [MINI, '--resources']), installation_id: 'inst-a-minires' }
  },
    { [TOKEN_READ_ONLY]: { team_id: 'team-a', user_id: 'reader', scopes: ['mcp:read'] } }));
  team = `${base}/mcp`;
  next = `${base}/servers/next/mcp`;
});

afterAll(async () => {
  await app?.close();
});

describe('dual era on one endpoint', () => {
  it('serves a modern client and a 2025 SDK client on the team endpoint at the same time', async () => {
    const client = new Client({ name: 'sdk-2025', version: '1' });
    await client.connect(new StreamableHTTPClientTransport(new URL(team), { requestInit: { headers: { authorization: `Bearer ${TOKEN_A}` } } }));
    try {
      const [sdkTools, modernTools, modernCall, sdkCall] = await Promise.all([
        client.listTools(),
        modern(team, 'tools/list'),
        modern(team, 'tools/call', { name: 'conf__test_simple_text', arguments: {} }),
        client.callTool({ name: 'conf__test_simple_text', arguments: {} })
      ]);
      expect(modernTools.status).toBe(200);
      expect(modernTools.headers.get('mcp-session-id')).toBeNull();
      const names = (modernTools.body.result!.tools as Array<{ name: string }>).map((t) => t.name).sort();
      expect(names).toEqual(sdkTools.tools.map((t) => t.name).sort());
      expect(names).toContain(ELICIT);
      expect(modernTools.body.result).toMatchObject({ resultType: 'complete', cacheScope: 'private', ttlMs: 0 });
      expect(modernCall.body.result).toMatchObject({ resultType: 'complete', content: [{ type: 'text', text: 'This is a simple text response for testing.' }] });
      expect(sdkCall.content).toEqual(modernCall.body.result!.content);
      // The 2025 result shape is unchanged by the modern era.
      expect(sdkCall).not.toHaveProperty('resultType');
      expect(client.transport?.sessionId).toEqual(expect.any(String));
    } finally {
      await client.close();
    }
  });

  it('still answers a plain initialize with 2025 semantics and a session, routing headers or not', async () => {
    const variants: Array<Record<string, string>> = [{}, { 'mcp-method': 'initialize', 'mcp-protocol-version': MODERN }];
    for (const extra of variants) {
      const res = await fetch(next, { method: 'POST', headers: headers(TOKEN_A, extra), body: initBody(1, '2025-11-25') });
      expect(res.status).toBe(200);
      expect(res.headers.get('mcp-session-id')).toEqual(expect.any(String));
      expect(((await res.json()) as { result: { protocolVersion: string } }).result.protocolVersion).toBe('2025-11-25');
    }
  });
});

describe('modern protocol rules', () => {
  it('server/discover names the versions, the capabilities and the server', async () => {
    const r = await modern(next, 'server/discover');
    expect(r.status).toBe(200);
    expect(r.headers.get('mcp-session-id')).toBeNull();
    const result = r.body.result!;
    expect(result.supportedVersions).toEqual(expect.arrayContaining([MODERN, '2025-11-25', '2025-06-18']));
    expect(result.capabilities).toMatchObject({ tools: { listChanged: true }, prompts: { listChanged: true }, resources: { subscribe: true } });
    expect(result._meta['io.modelcontextprotocol/serverInfo']).toEqual({ name: 'conformance-fixture', version: '1.0.0' });
    expect(result.resultType).toBe('complete');
    const t = await modern(team, 'server/discover');
    expect(t.body.result!.capabilities).toHaveProperty('tools');
  });

  it('rejects headers that disagree with the body: 400 and -32020', async () => {
    const cases: Array<Record<string, string | undefined>> = [
      { 'mcp-method': 'tools/list' },
      { 'mcp-method': 'TOOLS/CALL' },
      { 'mcp-method': undefined },
      { 'mcp-name': 'conf__test_error_handling' },
      { 'mcp-name': undefined },
      { 'mcp-protocol-version': '2025-11-25' }
    ];
    for (const [i, h] of cases.entries()) {
      const r = await modern(team, 'tools/call', { name: 'conf__test_simple_text', arguments: {} }, { headers: h, id: 40 + i });
      expect({ case: h, status: r.status, code: r.body.error?.code, id: r.body.id }).toEqual({ case: h, status: 400, code: -32020, id: 40 + i });
    }
    // Whitespace around values is fine, and a Base64-wrapped name is decoded.
    const ok = await modern(team, 'tools/call', { name: 'conf__test_simple_text', arguments: {} }, {
      headers: { 'mcp-method': '  tools/call ', 'mcp-name': `=?base64?${Buffer.from('conf__test_simple_text').toString('base64')}?=` }
    });
    expect(ok.status).toBe(200);
    expect(ok.body.result?.resultType).toBe('complete');
  });

  it('checks Mcp-Param-* headers against the tool parameters annotated with x-mcp-header', async () => {
    const tool = 'next__test_custom_headers';
    const call = (region: unknown, h: Record<string, string | undefined>) =>
      modern(team, 'tools/call', { name: tool, arguments: region === undefined ? {} : { region } }, { headers: h });
    const ok = await call('eu-west', { 'mcp-param-region': 'eu-west' });
    expect(ok.body.result).toMatchObject({ resultType: 'complete', content: [{ text: 'region=eu-west' }] });
    const b64 = await call('Zürich', { 'mcp-param-region': `=?base64?${Buffer.from('Zürich').toString('base64')}?=` });
    expect(b64.body.result?.content).toEqual([{ type: 'text', text: 'region=Zürich' }]);
    for (const [region, h] of [['eu-west', {}], ['eu-west', { 'mcp-param-region': 'us-east' }], ['Hello', { 'mcp-param-region': '=?base64?SGVsbG8?=' }], [undefined, { 'mcp-param-region': 'eu-west' }]] as const) {
      const r = await call(region, h);
      expect({ region, h, status: r.status, code: r.body.error?.code }).toEqual({ region, h, status: 400, code: -32020 });
    }
  });

  it('ignores an Mcp-Session-Id on a modern request and never echoes one', async () => {
    const sid = (await fetch(next, { method: 'POST', headers: headers(), body: initBody(1, '2025-11-25') })).headers.get('mcp-session-id')!;
    for (const id of [sid, 'no-such-session']) {
      const r = await modern(next, 'tools/list', {}, { headers: { 'mcp-session-id': id } });
      expect(r.status).toBe(200);
      expect(r.body.result?.resultType).toBe('complete');
      expect(r.headers.get('mcp-session-id')).toBeNull();
    }
  });

  it('answers an unsupported version with 400 and -32022 listing the supported ones', async () => {
    const r = await modern(next, 'tools/list', {}, { headers: { 'mcp-protocol-version': '2099-01-01' }, meta: { 'io.modelcontextprotocol/protocolVersion': '2099-01-01' }, id: 7 });
    expect(r.status).toBe(400);
    expect(r.body).toMatchObject({ id: 7, error: { code: -32022, data: { requested: '2099-01-01' } } });
    expect(r.body.error!.data.supported).toEqual(expect.arrayContaining([MODERN, '2025-11-25']));
  });

  it('answers unknown and removed methods with 404 and -32601, and a request without _meta with 400 and -32602', async () => {
    for (const method of ['unknown/method', 'ping', 'initialize', 'logging/setLevel', 'resources/subscribe']) {
      const r = await modern(next, method, {}, { id: 9 });
      expect({ method, status: r.status, code: r.body.error?.code, id: r.body.id }).toEqual({ method, status: 404, code: -32601, id: 9 });
    }
    const res = await fetch(next, { method: 'POST', headers: modernHeaders('tools/list', {}), body: JSON.stringify({ jsonrpc: '2.0', id: 3, method: 'tools/list', params: {} }) });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ id: 3, error: { code: -32602 } });
  });

  it('refuses GET and DELETE from modern clients with 405', async () => {
    for (const method of ['GET', 'DELETE']) {
      for (const url of [team, next]) {
        const res = await fetch(url, { method, headers: { authorization: `Bearer ${TOKEN_A}`, accept: 'text/event-stream', 'mcp-protocol-version': MODERN } });
        expect({ method, url, status: res.status, allow: res.headers.get('allow') }).toEqual({ method, url, status: 405, allow: 'POST' });
        await res.text();
      }
    }
  });

  it('decides the scope from Mcp-Method before the body is read', async () => {
    // The header alone decides: even an unparsable body is refused for the scope first.
    const early = await fetch(next, { method: 'POST', headers: modernHeaders('tools/call', { name: 'test_simple_text' }, { token: TOKEN_READ_ONLY }), body: '{not json' });
    expect(early.status).toBe(403);
    expect(early.headers.get('www-authenticate')).toContain('insufficient_scope');
    await early.text();
    // A header naming a readable method does not smuggle a tools/call body past the check.
    const smuggled = await modern(next, 'tools/call', { name: 'test_simple_text', arguments: {} }, { token: TOKEN_READ_ONLY, headers: { 'mcp-method': 'tools/list' } });
    expect(smuggled.status).toBe(400);
    expect(smuggled.body.error?.code).toBe(-32020);
    const allowed = await modern(next, 'tools/list', {}, { token: TOKEN_READ_ONLY });
    expect(allowed.status).toBe(200);
    // Team B may not see team A's server: the target check runs after the headers.
    const foreign = await modern(next, 'tools/list', {}, { token: TOKEN_B });
    expect(foreign.status).toBe(404);
    // An unparsable body with a valid header is refused by the body parser, not by the scope check.
    const res = await fetch(next, { method: 'POST', headers: modernHeaders('tools/list', {}), body: '{not json' });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { code: number } }).error.code).toBe(-32700);
  });

  it('treats a closed response stream as cancellation of the request', async () => {
    const mini = `${base}/servers/mini/mcp`;
    const ac = new AbortController();
    const hanging = modern(mini, 'tools/call', { name: 'hang', arguments: {} }, { signal: ac.signal }).catch((e: unknown) => e);
    const cancelledIds = async (): Promise<unknown[]> => {
      const r = await modern(mini, 'tools/call', { name: 'cancelled', arguments: {} });
      return (JSON.parse((r.body.result!.content as Array<{ text: string }>)[0]!.text) as { cancelled: unknown[] }).cancelled;
    };
    const before = (await cancelledIds()).length;
    await new Promise((r) => setTimeout(r, 200));
    ac.abort();
    expect(await hanging).toBeInstanceOf(Error);
    let after = before;
    for (let i = 0; i < 40 && after === before; i++) {
      await new Promise((r) => setTimeout(r, 25));
      after = (await cancelledIds()).length;
    }
    expect(after).toBe(before + 1);
  });

  it('sends log messages only when the request asks for a level', async () => {
    const quiet = await modern(next, 'tools/call', { name: 'test_logging_tool', arguments: {} });
    expect(quiet.related).toEqual([]);
    expect(quiet.body.result?.resultType).toBe('complete');
    const loud = await modern(next, 'tools/call', { name: 'test_logging_tool', arguments: {} }, { meta: { 'io.modelcontextprotocol/logLevel': 'debug' } });
    expect(loud.related).toEqual([expect.objectContaining({ method: 'notifications/message', params: expect.objectContaining({ level: 'info' }) })]);
    expect(loud.body.result?.resultType).toBe('complete');
  });
});

describe('input_required over a 2025 stdio backend', () => {
  const caps = { elicitation: {} };

  it('turns the backend\'s elicitation into input_required and the retry into the final result', async () => {
    const first = await modern(team, 'tools/call', { name: ELICIT, arguments: {} }, { capabilities: caps, id: 'r1' });
    expect(first.status).toBe(200);
    const result = first.body.result!;
    expect(result.resultType).toBe('input_required');
    expect(result.inputRequests.user_name).toMatchObject({ method: 'elicitation/create', params: { message: 'What is your name?' } });
    // The gateway's key hint stays at the gateway.
    expect(result.inputRequests.user_name.params._meta).toBeUndefined();
    expect(result.requestState).toEqual(expect.any(String));

    const retryParams = { name: ELICIT, arguments: {}, inputResponses: { user_name: { action: 'accept', content: { name: 'Alice' } } }, requestState: result.requestState };
    const second = await modern(team, 'tools/call', retryParams, { capabilities: caps, id: 'r2' });
    expect(second.body).toMatchObject({ id: 'r2', result: { resultType: 'complete', content: [{ type: 'text', text: 'Hello, Alice!' }] } });

    // A requestState serves one retry only.
    const again = await modern(team, 'tools/call', retryParams, { capabilities: caps, id: 'r3' });
    expect(again.body.error?.code).toBe(-32602);
  });

  it('binds requestState to the caller and the request that got it', async () => {
    const first = await modern(team, 'tools/call', { name: ELICIT, arguments: {} }, { capabilities: caps });
    const state = first.body.result!.requestState as string;
    const answer = { user_name: { action: 'accept', content: { name: 'Mallory' } } };
    const bob = await modern(team, 'tools/call', { name: ELICIT, arguments: {}, inputResponses: answer, requestState: state }, { token: TOKEN_A_BOB, capabilities: caps });
    expect(bob.body.error?.code).toBe(-32602);
    const otherTool = await modern(team, 'tools/call', { name: 'next__test_input_required_result_request_state', arguments: {}, inputResponses: answer, requestState: state }, { capabilities: caps });
    expect(otherTool.body.error?.code).toBe(-32602);
    // Refused retries do not consume the state: its owner can still finish the call.
    const alice = await modern(team, 'tools/call', { name: ELICIT, arguments: {}, inputResponses: { user_name: { action: 'accept', content: { name: 'Alice' } } }, requestState: state }, { capabilities: caps });
    expect(alice.body.result).toMatchObject({ resultType: 'complete', content: [{ text: 'Hello, Alice!' }] });
  });

  it('refuses an input request the client did not declare with 400 and -32021', async () => {
    const r = await modern(next, 'tools/call', { name: 'test_missing_capability', arguments: {} }, { capabilities: {} });
    expect(r.status).toBe(400);
    expect(r.body.error).toMatchObject({ code: -32021, data: { requiredCapabilities: { sampling: {} } } });
  });

  it('rejects malformed inputResponses with -32602', async () => {
    const r = await modern(next, 'tools/call', { name: 'test_input_required_result_elicitation', arguments: {}, inputResponses: { user_name: 5 } }, { capabilities: caps });
    expect(r.body.error?.code).toBe(-32602);
  });

  it('keeps the 2025 flow of the same tool intact for an SDK client', async () => {
    const client = new Client({ name: 'sdk-2025', version: '1' }, { capabilities: { elicitation: {} } });
    client.setRequestHandler(ElicitRequestSchema, async () => ({ action: 'accept', content: { name: 'Bea' } }));
    await client.connect(new StreamableHTTPClientTransport(new URL(team), { requestInit: { headers: { authorization: `Bearer ${TOKEN_A}` } } }));
    try {
      const r = await client.callTool({ name: ELICIT, arguments: {} });
      expect(r.content).toEqual([{ type: 'text', text: 'Hello, Bea!' }]);
    } finally {
      await client.close();
    }
  });
});

describe('subscriptions/listen', () => {
  for (const [route, trigger] of [['server', 'test_trigger_tool_change'], ['team', 'next__test_trigger_tool_change']] as const) {
    it(`delivers a tools list_changed, tagged, on the ${route} route`, async () => {
      const url = route === 'server' ? next : team;
      const ac = new AbortController();
      const params = { notifications: { toolsListChanged: true } };
      const res = await fetch(url, { method: 'POST', headers: modernHeaders('subscriptions/listen', params), body: modernBody('subscriptions/listen', params), signal: ac.signal });
      try {
        expect(res.status).toBe(200);
        expect(res.headers.get('content-type')).toContain('text/event-stream');
        const stream = sseReader(res);
        const acked = await stream.read((ev) => ev.length >= 1, 3000);
        const ack = JSON.parse(acked.events[0]!.data);
        expect(ack).toMatchObject({ method: 'notifications/subscriptions/acknowledged', params: { notifications: { toolsListChanged: true } } });
        const id = ack.params._meta['io.modelcontextprotocol/subscriptionId'];
        expect(id).toEqual(expect.any(String));

        const call = await modern(url, 'tools/call', { name: trigger, arguments: {} });
        expect(call.body.result?.resultType).toBe('complete');
        const got = await stream.read((ev) => ev.some((e) => e.data.includes('notifications/tools/list_changed')), 3000);
        const changed = got.events.map((e) => JSON.parse(e.data)).find((m) => m.method === 'notifications/tools/list_changed');
        expect(changed?.params._meta['io.modelcontextprotocol/subscriptionId']).toBe(id);
      } finally {
        ac.abort();
      }
    });
  }

  it('subscribes to the resources named in resourceSubscriptions for the life of the stream', async () => {
    const url = `${base}/servers/minires/mcp`;
    const subs = async (): Promise<string[]> => {
      const r = await modern(url, 'tools/call', { name: 'subs', arguments: {} });
      return (JSON.parse((r.body.result!.content as Array<{ text: string }>)[0]!.text) as { subscriptions: string[] }).subscriptions;
    };
    const ac = new AbortController();
    const params = { notifications: { resourceSubscriptions: ['mini://watched'] } };
    const res = await fetch(url, { method: 'POST', headers: modernHeaders('subscriptions/listen', params), body: modernBody('subscriptions/listen', params), signal: ac.signal });
    const stream = sseReader(res);
    try {
      const ack = JSON.parse((await stream.read((ev) => ev.length >= 1, 3000)).events[0]!.data);
      expect(ack.params.notifications).toEqual({ resourceSubscriptions: ['mini://watched'] });
      expect(await subs()).toEqual(['mini://watched']);
      await modern(url, 'tools/call', { name: 'touch', arguments: { uri: 'mini://other' } });
      await modern(url, 'tools/call', { name: 'touch', arguments: { uri: 'mini://watched' } });
      const got = await stream.read((ev) => ev.some((e) => e.data.includes('resources/updated')), 3000);
      const updates = got.events.map((e) => JSON.parse(e.data)).filter((m) => m.method === 'notifications/resources/updated');
      expect(updates.map((u) => u.params.uri)).toEqual(['mini://watched']);
      expect(updates[0].params._meta['io.modelcontextprotocol/subscriptionId']).toBe(ack.params._meta['io.modelcontextprotocol/subscriptionId']);
    } finally {
      ac.abort();
    }
    // The stream's end ends its subscription at the backend.
    let left = await subs();
    for (let i = 0; i < 40 && left.length > 0; i++) {
      await new Promise((r) => setTimeout(r, 25));
      left = await subs();
    }
    expect(left).toEqual([]);
  });

  it('does not deliver notification types the listener did not ask for', async () => {
    const ac = new AbortController();
    const params = { notifications: { promptsListChanged: true } };
    const res = await fetch(next, { method: 'POST', headers: modernHeaders('subscriptions/listen', params), body: modernBody('subscriptions/listen', params), signal: ac.signal });
    try {
      const stream = sseReader(res);
      await stream.read((ev) => ev.length >= 1, 3000);
      await modern(next, 'tools/call', { name: 'test_trigger_tool_change', arguments: {} });
      await modern(next, 'tools/call', { name: 'test_trigger_prompt_change', arguments: {} });
      const got = await stream.read((ev) => ev.some((e) => e.data.includes('prompts/list_changed')), 3000);
      const methods = got.events.map((e) => JSON.parse(e.data).method);
      expect(methods).toContain('notifications/prompts/list_changed');
      expect(methods).not.toContain('notifications/tools/list_changed');
    } finally {
      ac.abort();
    }
  });
});
