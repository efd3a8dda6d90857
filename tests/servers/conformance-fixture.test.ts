import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JsonRpcNotification } from '../../src/mcp/jsonrpc';
import { CONFORMANCE, server, startRegistry, type Harness } from './helpers';

// The conformance fixture is a real @modelcontextprotocol/sdk server: initialize, lists and calls must work through the Upstream.
describe('stdio upstream against a real SDK server', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startRegistry([server('conf', [CONFORMANCE])]);
  });
  afterAll(() => h.close());
  const up = () => h.registry.get('team-a', 'conf')!;

  it('initializes and lists tools, resources and prompts', async () => {
    expect(up().status).toBe('online');
    expect(up().initializeResult).toMatchObject({ protocolVersion: '2025-11-25', serverInfo: { name: 'conformance-fixture' } });
    const tools = (await up().request('tools/list', {})).tools as { name: string; inputSchema: Record<string, unknown> }[];
    expect(tools.map((t) => t.name)).toContain('test_simple_text');
    // Schemas pass through verbatim.
    expect(tools.find((t) => t.name === 'json_schema_2020_12_tool')!.inputSchema.$schema).toBe('https://json-schema.org/draft/2020-12/schema');
    expect(((await up().request('resources/list', {})).resources as { uri: string }[]).map((r) => r.uri)).toContain('test://static-text');
    expect(((await up().request('prompts/list', {})).prompts as { name: string }[]).map((p) => p.name)).toContain('test_simple_prompt');
  });

  it('calls tools, with progress, logging and sampling routed to the caller', async () => {
    expect(await up().request('tools/call', { name: 'test_simple_text', arguments: {} })).toMatchObject({ content: [{ type: 'text' }] });
    const progress: JsonRpcNotification[] = [];
    await up().request('tools/call', { name: 'test_tool_with_progress', arguments: {}, _meta: { progressToken: 'progress-test-1' } }, { onNotification: (n) => progress.push(n) });
    expect(progress.map((n) => [n.params?.progressToken, n.params?.progress])).toEqual([['progress-test-1', 0], ['progress-test-1', 50], ['progress-test-1', 100]]);
    const logs: JsonRpcNotification[] = [];
    await up().request('tools/call', { name: 'test_tool_with_logging', arguments: {} }, { onNotification: (n) => logs.push(n) });
    expect(logs.filter((n) => n.method === 'notifications/message')).toHaveLength(3);
    const sampled = await up().request('tools/call', { name: 'test_sampling', arguments: { prompt: 'What is 2+2?' } }, {
      onRequest: async (method) => {
        expect(method).toBe('sampling/createMessage');
        return { role: 'assistant', content: { type: 'text', text: '4' }, model: 'test-model', stopReason: 'endTurn' };
      }
    });
    expect(sampled.content).toEqual([{ type: 'text', text: 'LLM response: 4' }]);
    const elicited = await up().request('tools/call', { name: 'test_elicitation', arguments: { message: 'who?' } }, {
      onRequest: async () => ({ action: 'accept', content: { username: 'alice', email: 'a@example.com' } })
    });
    expect((elicited.content as { text: string }[])[0]!.text).toBe('User response: action=accept, content={"username":"alice","email":"a@example.com"}');
    const failed = await up().request('tools/call', { name: 'test_error_handling', arguments: {} });
    expect(failed.isError).toBe(true);
  });

  it('passes JSON-RPC errors of the server through unchanged', async () => {
    await expect(up().request('tools/call', { name: 'no_such_tool', arguments: {} })).rejects.toMatchObject({ code: -32602, message: 'MCP error -32602: Unknown tool: no_such_tool' });
    expect(up().status).toBe('online');
  });
});
