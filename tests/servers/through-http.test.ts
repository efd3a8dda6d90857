import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { CreateMessageRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app';
import { testConfig } from '../helpers/config';
import { CONFORMANCE, configOf, server, waitFor } from './helpers';

// The whole path: SDK client → Streamable HTTP → pass-through → registry → stdio process → SDK server.
describe('a stdio server reached over HTTP by SDK clients', () => {
  let app: FastifyInstance;
  let base: string;
  let dataDir: string;
  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'satellite-http-'));
    const cfg = configOf([server('conf', [CONFORMANCE])]);
    app = await buildApp(testConfig({ SATELLITE_DATA_DIR: dataDir }, { mcp_servers: cfg.mcp_servers, anonymous: { team_id: 'team-a' } }));
    base = await app.listen({ port: 0, host: '127.0.0.1' });
    await waitFor(() => app.servers.list()[0]?.status === 'online', 10_000, 'server online');
  });
  afterAll(async () => {
    await app.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  async function connect(name: string): Promise<Client> {
    const client = new Client({ name, version: '1.0.0' }, { capabilities: { sampling: {} } });
    client.setRequestHandler(CreateMessageRequestSchema, async (req) => ({
      role: 'assistant', model: 'm', content: { type: 'text', text: `${name}:${(req.params.messages[0]!.content as { text: string }).text}` }
    }));
    await client.connect(new StreamableHTTPClientTransport(new URL(`${base}/servers/conf/mcp`)));
    return client;
  }

  it('serves several clients from one process, each getting its own sampling request and progress', async () => {
    const clients = await Promise.all(['alice', 'bob', 'carol'].map(connect));
    try {
      const results = await Promise.all(clients.map((c, i) => c.callTool({ name: 'test_sampling', arguments: { prompt: `q${i}` } })));
      expect(results.map((r) => (r.content as { text: string }[])[0]!.text)).toEqual(['LLM response: alice:q0', 'LLM response: bob:q1', 'LLM response: carol:q2']);
      const progress: number[] = [];
      await clients[0]!.callTool({ name: 'test_tool_with_progress', arguments: {} }, undefined, { onprogress: (p) => progress.push(p.progress) });
      expect(progress).toEqual([0, 50, 100]);
      expect(app.servers.list()).toHaveLength(1);
    } finally {
      await Promise.all(clients.map((c) => c.close()));
    }
  });
});
