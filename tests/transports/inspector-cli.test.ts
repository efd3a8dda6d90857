// The MCP Inspector CLI (a real, widely used client) lists and calls tools over both transports,
// on the team endpoint and on one server's pass-through.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app';
import { testConfig } from '../helpers/config';
import { CONFORMANCE, server } from '../servers/helpers';

const run = promisify(execFile);
const INSPECTOR = resolve(__dirname, '../../.cache/inspector/node_modules/.bin/mcp-inspector');

async function inspector(url: string, transport: 'http' | 'sse', ...args: string[]): Promise<any> {
  const { stdout } = await run(INSPECTOR, ['--cli', url, '--transport', transport, ...args], { timeout: 30_000 });
  return JSON.parse(stdout);
}

describe('MCP Inspector CLI', () => {
  let app: FastifyInstance;
  let base: string;
  beforeAll(async () => {
    if (!existsSync(INSPECTOR)) throw new Error(`MCP Inspector CLI missing at ${INSPECTOR}: run npm run setup:test`);
    app = await buildApp(testConfig({}, {
      teams: { 'team-a': { slug: 'alpha' } },
      anonymous: { team_id: 'team-a' },
      mcp_servers: { conf: server('conf', [CONFORMANCE]) }
    }));
    base = await app.listen({ port: 0, host: '127.0.0.1' });
  });
  afterAll(() => app?.close());

  const endpoints: Array<[string, 'http' | 'sse', string, string]> = [
    ['team endpoint over Streamable HTTP', 'http', '/mcp', 'conf__test_simple_text'],
    ['team endpoint over legacy SSE', 'sse', '/sse', 'conf__test_simple_text'],
    ['one server over Streamable HTTP', 'http', '/servers/conf/mcp', 'test_simple_text'],
    ['one server over legacy SSE', 'sse', '/servers/conf/sse', 'test_simple_text']
  ];
  it.each(endpoints)('lists and calls tools on the %s', async (_name, transport, path, tool) => {
    const listed = await inspector(`${base}${path}`, transport, '--method', 'tools/list');
    expect(listed.tools.map((t: { name: string }) => t.name)).toContain(tool);
    const called = await inspector(`${base}${path}`, transport, '--method', 'tools/call', '--tool-name', tool);
    expect(called.content[0].type).toBe('text');
    expect(called.content[0].text.length).toBeGreaterThan(0);
    expect(called.isError).not.toBe(true);
  });
});
