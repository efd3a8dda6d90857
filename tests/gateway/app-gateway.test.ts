// The team endpoint end to end: buildApp with the gateway plugin, real SDK clients over /mcp and
// /sse, a stdio child and a remote SDK server behind it.
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { ToolListChangedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app';
import { parseStandaloneConfig } from '../../src/config/standalone';
import { testConfig } from '../helpers/config';
import { startMcpHttpServer, type TestMcpServer } from '../remote/helpers/mcp-http-server';
import { MINI, server } from '../servers/helpers';
import { remote, waitFor } from './harness';

describe('team endpoint through the app', () => {
  let web: TestMcpServer;
  let extra: TestMcpServer;
  let legacy: TestMcpServer;
  let app: FastifyInstance;
  let base: string;
  const clients: Client[] = [];

  const connect = async (kind: 'http' | 'sse' = 'http', query = ''): Promise<Client> => {
    const client = new Client({ name: 'test', version: '1.0.0' });
    const transport = kind === 'http' ? new StreamableHTTPClientTransport(new URL(`${base}/mcp${query}`)) : new SSEClientTransport(new URL(`${base}/sse${query}`));
    await client.connect(transport);
    clients.push(client);
    return client;
  };

  beforeAll(async () => {
    web = await startMcpHttpServer({ name: 'web-a' });
    extra = await startMcpHttpServer({ name: 'extra' });
    legacy = await startMcpHttpServer({ name: 'legacy', mode: 'sse' });
    app = await buildApp(testConfig({}, {
      teams: { 'team-a': { slug: 'alpha' } },
      anonymous: { team_id: 'team-a' },
      mcp_servers: { mini: server('mini', [MINI]), web: remote('web', web.url) }
    }));
    base = await app.listen({ port: 0, host: '127.0.0.1' });
  });
  afterAll(async () => {
    for (const c of clients) await c.close().catch(() => undefined);
    await app?.close();
    await web?.stop();
    await extra?.stop();
    await legacy?.stop();
  });

  it('lists and calls every server of the team over Streamable HTTP', async () => {
    const client = await connect();
    expect(client.getServerVersion()?.name).toBe('satellite');
    const { tools } = await client.listTools();
    const names = tools.map((t) => t.name);
    expect(names).toEqual(expect.arrayContaining(['mini__echo', 'web__echo', 'web__whoami']));
    const r = await client.callTool({ name: 'web__echo', arguments: { text: 'e2e' } });
    expect((r.content as Array<{ text: string }>)[0]!.text).toBe('web-a:e2e');
    const progress: number[] = [];
    await client.callTool({ name: 'web__progress', arguments: {} }, undefined, { onprogress: (p) => progress.push(p.progress) });
    expect(progress).toEqual([1, 2, 3]);
    const unknown = await client.callTool({ name: 'web__missing', arguments: {} }).catch((e: Error) => e);
    expect(unknown).toBeInstanceOf(Error);
    expect(String((unknown as Error).message)).toMatch(/Unknown tool/);
  });

  it('offers the two meta-tools instead of the catalog with ?meta_tools=1, on both transports', async () => {
    for (const kind of ['http', 'sse'] as const) {
      const client = await connect(kind, '?meta_tools=1');
      expect((await client.listTools()).tools.map((t) => t.name).sort()).toEqual(['discover_mcp_tools', 'execute_mcp_tool']);
      const found = await client.callTool({ name: 'discover_mcp_tools', arguments: { query: 'echo' } });
      const hits = JSON.parse((found.content as Array<{ text: string }>)[0]!.text) as { tools: Array<{ tool_path: string }> };
      expect(hits.tools.map((t) => t.tool_path)).toContain('web__echo');
      const run = await client.callTool({ name: 'execute_mcp_tool', arguments: { tool_path: 'web__echo', arguments: { text: 'meta' } } });
      expect((run.content as Array<{ text: string }>)[0]!.text).toBe('web-a:meta');
    }
    const plain = await connect('http', '?meta_tools=0');
    expect((await plain.listTools()).tools.map((t) => t.name)).toContain('web__echo');
  });

  it('serves the legacy SSE transport the same catalog', async () => {
    const client = await connect('sse');
    const names = (await client.listTools()).tools.map((t) => t.name);
    expect(names).toContain('mini__echo');
    const r = await client.callTool({ name: 'mini__echo', arguments: { x: 1 } });
    expect(r.structuredContent).toEqual({ echo: { x: 1 } });
  });

  it('sends tools/list_changed when the config adds servers (one of them a legacy SSE upstream)', async () => {
    const client = await connect();
    let changed = 0;
    client.setNotificationHandler(ToolListChangedNotificationSchema, async () => void changed++);
    await client.listTools();
    const current = app.configStore.current;
    app.configStore.replace(parseStandaloneConfig({
      teams: current.teams, anonymous: current.anonymous,
      mcp_servers: { ...current.mcp_servers, extra: remote('extra', extra.url), old: remote('old', legacy.url, { transport_type: 'sse' }) }
    }, 'test'));
    await waitFor(() => changed > 0, 5000, 'tools/list_changed');
    const names = (await client.listTools()).tools.map((t) => t.name);
    expect(names).toEqual(expect.arrayContaining(['extra__echo', 'old__echo']));
    const r = await client.callTool({ name: 'old__echo', arguments: { text: 'via legacy upstream' } });
    expect((r.content as Array<{ text: string }>)[0]!.text).toBe('legacy:via legacy upstream');
  });
});
