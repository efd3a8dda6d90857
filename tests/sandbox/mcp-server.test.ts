import { afterAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { createSandboxDriver } from '../../src/sandbox/factory';
import { memoryLog, request, sandboxEnv, tempDataDir } from './helpers';

const data = tempDataDir();
afterAll(() => data.remove());

// A real MCP server installed as the satellite's npm dependency, run inside the real sandbox and
// spoken to with the SDK client: node_modules must be visible read-only, the team dir writable.
describe.each(['bwrap', 'none'] as const)('%s driver runs a real MCP server', (sandbox) => {
  it('serves tools/list and writes its state into the team directory', async () => {
    const driver = createSandboxDriver(sandboxEnv(data.dir, { SANDBOX: sandbox }), memoryLog());
    const entry = resolve('node_modules/@modelcontextprotocol/server-memory/dist/index.js');
    const home = sandbox === 'bwrap' ? '/home/mcp' : join(data.dir, 'teams', 'team-a');
    const plan = await driver.plan(request({ serverSlug: 'memory', args: [entry], env: { MEMORY_FILE_PATH: `${home}/memory.jsonl` } }));
    const transport = new StdioClientTransport({ command: plan.command, args: plan.args, env: plan.env, cwd: plan.cwd, stderr: 'pipe' });
    const client = new Client({ name: 'sandbox-test', version: '1.0.0' });
    try {
      await client.connect(transport);
      if (transport.pid !== null) await plan.attach?.(transport.pid);
      const tools = await client.listTools();
      expect(tools.tools.map((t) => t.name)).toContain('create_entities');
      await client.callTool({ name: 'create_entities', arguments: { entities: [{ name: 'sandboxed', entityType: 'test', observations: ['ok'] }] } });
      expect(readFileSync(join(data.dir, 'teams', 'team-a', 'memory.jsonl'), 'utf8')).toContain('sandboxed');
    } finally {
      await client.close();
      await plan.cleanup?.();
    }
  });
});
