// Shared by tests/budgets and tests/per-user: the fixture server, config entries and SDK clients.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { buildApp } from '../../src/app';
import type { RawEnv } from '../../src/config/env';
import type { McpServerConfig } from '../../src/config/server-config';
import type { StandaloneConfig } from '../../src/config/standalone';
import { testConfig } from '../helpers/config';

export const BUDGET_SERVER = join(__dirname, 'fixtures/budget-server.mjs');

export function fixtureEntry(slug: string, team: { id: string; slug: string }, extra: Partial<McpServerConfig> = {}): McpServerConfig {
  return {
    installation_id: `inst-${slug}-${team.slug}`, team_id: team.id, team_slug: team.slug, server_slug: slug,
    installation_name: `${slug}-${team.slug}${extra.user_id ? `-${extra.user_id}` : ''}`, transport_type: 'stdio',
    command: 'node', args: [BUDGET_SERVER], enabled: true, ...extra
  };
}

/** An SDK client on the team endpoint (or a server's pass-through path) with a bearer token. */
export async function connectClient(base: string, token: string, path = '/mcp'): Promise<Client> {
  const client = new Client({ name: 'budget-test', version: '1.0.0' });
  await client.connect(new StreamableHTTPClientTransport(new URL(`${base}${path}`), { requestInit: { headers: { authorization: `Bearer ${token}` } } }));
  return client;
}

/** The JSON a fixture tool returned in its text content. */
export function textJson(result: unknown): Record<string, unknown> {
  const content = (result as { content?: Array<{ type: string; text?: string }> }).content ?? [];
  return JSON.parse(content[0]?.text ?? 'null') as Record<string, unknown>;
}

export interface TestApp {
  app: FastifyInstance;
  base: string;
  /** A connected SDK client, closed with the app. */
  client(token: string, path?: string): Promise<Client>;
  close(): Promise<void>;
}

/** The whole app on loopback with its own data directory, servers started. */
export async function startTestApp(doc: Partial<StandaloneConfig>, env: RawEnv = {}): Promise<TestApp> {
  const dir = mkdtempSync(join(tmpdir(), 'satellite-budgets-'));
  const app = await buildApp(testConfig({ SATELLITE_DATA_DIR: join(dir, 'data'), AUDIT_LOG_FILE: join(dir, 'audit.log'), ...env }, doc));
  const base = await app.listen({ port: 0, host: '127.0.0.1' });
  await app.servers.settled();
  const clients: Client[] = [];
  return {
    app, base,
    client: async (token, path) => {
      const c = await connectClient(base, token, path);
      clients.push(c);
      return c;
    },
    close: async () => {
      await Promise.allSettled(clients.map((c) => c.close()));
      await app.close();
      rmSync(dir, { recursive: true, force: true });
    }
  };
}
