// The real MCP SDK client over both transports, and the legacy HTTP+SSE wire rules.
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { CreateMessageRequestSchema, LoggingMessageNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readSse, sseReader, startApp, TOKEN_A, TOKEN_B } from './helpers';

let app: FastifyInstance;
let base: string;
beforeAll(async () => {
  ({ app, base } = await startApp());
});
afterAll(() => app.close());

const auth = (token = TOKEN_A) => ({ authorization: `Bearer ${token}` });

function sseTransport(url: string, token = TOKEN_A): SSEClientTransport {
  return new SSEClientTransport(new URL(url), {
    requestInit: { headers: auth(token) },
    eventSourceInit: { fetch: (u, init) => fetch(u, { ...init, headers: { ...(init?.headers as Record<string, string>), ...auth(token) } }) }
  });
}

describe('MCP SDK client over Streamable HTTP', () => {
  it('lists and calls tools, gets progress before the result, answers sampling', async () => {
    const client = new Client({ name: 'sdk-test', version: '1' }, { capabilities: { sampling: {} } });
    client.setRequestHandler(CreateMessageRequestSchema, async () => ({ role: 'assistant', content: { type: 'text', text: 'sampled!' }, model: 'test' }));
    const transport = new StreamableHTTPClientTransport(new URL(`${base}/servers/conf/mcp`), { requestInit: { headers: auth() } });
    await client.connect(transport);
    try {
      expect(transport.sessionId).toMatch(/^[A-Za-z0-9_-]{43}$/);
      const { tools } = await client.listTools();
      expect(tools.map((t) => t.name)).toContain('test_simple_text');
      const schemaTool = tools.find((t) => t.name === 'json_schema_2020_12_tool')!;
      expect(schemaTool.inputSchema).toMatchObject({ $schema: 'https://json-schema.org/draft/2020-12/schema', additionalProperties: false });
      const progress: number[] = [];
      const r = await client.callTool({ name: 'test_tool_with_progress', arguments: {} }, undefined, { onprogress: (p) => progress.push(p.progress) });
      expect(progress).toEqual([0, 50, 100]);
      expect(r.content).toBeDefined();
      const s = await client.callTool({ name: 'test_sampling', arguments: { prompt: 'hello' } });
      expect(JSON.stringify(s.content)).toContain('sampled!');
      const logs: unknown[] = [];
      client.setNotificationHandler(LoggingMessageNotificationSchema, (n) => { logs.push(n.params.data); });
      await client.setLoggingLevel('debug');
      await client.callTool({ name: 'test_tool_with_logging', arguments: {} });
      expect(logs.length).toBeGreaterThanOrEqual(3);
    } finally {
      await transport.terminateSession();
      await client.close();
    }
  });

  it('a client without the sampling capability gets the tool failure, never a request it cannot answer', async () => {
    const client = new Client({ name: 'sdk-test', version: '1' });
    const transport = new StreamableHTTPClientTransport(new URL(`${base}/servers/conf/mcp`), { requestInit: { headers: auth() } });
    await client.connect(transport);
    try {
      const r = await client.callTool({ name: 'test_sampling', arguments: { prompt: 'x' } }).catch((e: Error) => ({ isError: true, content: [{ type: 'text', text: e.message }] }));
      expect(r.isError).toBe(true);
    } finally {
      await client.close();
    }
  });

  it('connects to the team endpoint /mcp', async () => {
    const client = new Client({ name: 'sdk-test', version: '1' });
    const transport = new StreamableHTTPClientTransport(new URL(`${base}/mcp`), { requestInit: { headers: auth() } });
    await client.connect(transport);
    expect(client.getServerVersion()?.name).toBeTruthy();
    expect(typeof transport.sessionId).toBe('string');
    await client.close();
  });
});

describe('legacy HTTP+SSE', () => {
  it('the SDK SSE client lists and calls tools on /servers/:slug/sse', async () => {
    const client = new Client({ name: 'sse-test', version: '1' });
    const transport = sseTransport(`${base}/servers/conf/sse`);
    await client.connect(transport);
    try {
      const { tools } = await client.listTools();
      expect(tools.length).toBeGreaterThan(5);
      const r = await client.callTool({ name: 'test_simple_text', arguments: {} });
      expect(JSON.stringify(r.content)).toContain('text');
    } finally {
      await client.close();
    }
  });

  it('sends the endpoint event, answers POSTs 202 and the responses on the stream; accepts session=', async () => {
    const res = await fetch(`${base}/servers/conf/sse`, { headers: { ...auth(), accept: 'text/event-stream' } });
    expect(res.status).toBe(200);
    const sse = sseReader(res);
    const first = await sse.read((ev) => ev.length >= 1);
    expect(first.events[0]!.event).toBe('endpoint');
    const endpoint = first.events[0]!.data;
    expect(endpoint).toMatch(/^\/servers\/conf\/message\?sessionId=[A-Za-z0-9_-]{43}$/);
    const sid = new URL(endpoint, base).searchParams.get('sessionId')!;
    const post = (body: object, q = `sessionId=${sid}`) => fetch(`${base}/servers/conf/message?${q}`, { method: 'POST', headers: { ...auth(), 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const init = await post({ jsonrpc: '2.0', id: 0, method: 'initialize', params: { protocolVersion: '2024-11-05', capabilities: {}, clientInfo: { name: 'raw', version: '1' } } });
    expect(init.status).toBe(202);
    const got = await sse.read((ev) => ev.some((e) => e.data.includes('"id":0')));
    const answer = JSON.parse(got.events.find((e) => e.data.includes('"id":0'))!.data);
    expect(answer.result.protocolVersion).toBe('2024-11-05');
    const ping = await post({ jsonrpc: '2.0', id: 'p', method: 'ping' }, `session=${sid}`);
    expect(ping.status).toBe(202);
    const pong = await sse.read((ev) => ev.some((e) => e.data.includes('"id":"p"')));
    expect(JSON.parse(pong.events.find((e) => e.data.includes('"id":"p"'))!.data).result).toEqual({});
    // another team's token never reaches this session
    const foreign = await fetch(`${base}/servers/conf/message?sessionId=${sid}`, { method: 'POST', headers: { ...auth(TOKEN_B), 'content-type': 'application/json' }, body: '{"jsonrpc":"2.0","id":1,"method":"ping"}' });
    expect(foreign.status).toBe(404);
    // a legacy session is not a Streamable HTTP session
    const crossed = await fetch(`${base}/servers/conf/mcp`, { method: 'POST', headers: { ...auth(), 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-session-id': sid }, body: '{"jsonrpc":"2.0","id":1,"method":"ping"}' });
    expect(crossed.status).toBe(404);
    await sse.cancel();
  });

  it('unknown or missing session gives 404/400 with a JSON-RPC error at once; bad JSON gives -32700', async () => {
    const unknown = await fetch(`${base}/message?sessionId=nope`, { method: 'POST', headers: { ...auth(), 'content-type': 'application/json' }, body: '{"jsonrpc":"2.0","id":1,"method":"ping"}' });
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toMatchObject({ jsonrpc: '2.0', error: { code: -32001 } });
    const missing = await fetch(`${base}/message`, { method: 'POST', headers: { ...auth(), 'content-type': 'application/json' }, body: '{}' });
    expect(missing.status).toBe(400);
    const res = await fetch(`${base}/sse`, { headers: { ...auth(), accept: 'text/event-stream' } });
    const first = await readSse(res, (ev) => ev.length >= 1);
    const endpoint = first.events[0]!.data;
    expect(endpoint).toMatch(/^\/message\?sessionId=/);
    // the stream was let go: the session ends with it
    for (let i = 0; i < 50; i++) {
      const r = await fetch(new URL(endpoint, base), { method: 'POST', headers: { ...auth(), 'content-type': 'application/json' }, body: '{bad' });
      if (r.status === 404) return;
      expect(r.status).toBe(400);
      expect(((await r.json()) as any).error.code).toBe(-32700);
      await new Promise((done) => setTimeout(done, 20));
    }
    throw new Error('the legacy session outlived its stream');
  });

  it('refuses a foreign Origin on the legacy endpoints too (403)', async () => {
    const res = await fetch(`${base}/sse`, { headers: { ...auth(), accept: 'text/event-stream', origin: 'http://evil.example' } });
    expect(res.status).toBe(403);
    const msg = await fetch(`${base}/message?sessionId=x`, { method: 'POST', headers: { ...auth(), 'content-type': 'application/json', origin: 'http://evil.example' }, body: '{}' });
    expect(msg.status).toBe(403);
  });

  it('documents every transport route in the OpenAPI document', async () => {
    const doc = (await (await fetch(`${base}/documentation/json`)).json()) as { paths: Record<string, Record<string, unknown>> };
    for (const path of ['/mcp', '/servers/{slug}/mcp', '/sse', '/message', '/servers/{slug}/sse', '/servers/{slug}/message']) expect(doc.paths[path], path).toBeDefined();
    expect(Object.keys(doc.paths['/mcp']!)).toEqual(expect.arrayContaining(['get', 'post', 'delete']));
  });

  it('unknown server slug gives 404 on the SSE endpoint', async () => {
    const res = await fetch(`${base}/servers/none/sse`, { headers: { ...auth(), accept: 'text/event-stream' } });
    expect(res.status).toBe(404);
  });
});
