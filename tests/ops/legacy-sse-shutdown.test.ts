// Graceful shutdown with legacy HTTP+SSE clients: their answers travel on the GET stream, so the
// drain waits for the sessions' in-flight calls before the transports end the streams.
import { resolve } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js';
import { describe, expect, it } from 'vitest';
import { server, startApp, TOKEN_A } from '../transports/helpers';

const MINI = resolve(__dirname, '../fixtures/servers/mini-server.mjs');
const auth = { authorization: `Bearer ${TOKEN_A}` };

function legacyClient(url: string): { client: Client; transport: SSEClientTransport } {
  const transport = new SSEClientTransport(new URL(url), {
    requestInit: { headers: auth },
    eventSourceInit: { fetch: (u, init) => fetch(u, { ...init, headers: { ...(init?.headers as Record<string, string>), ...auth } }) }
  });
  return { client: new Client({ name: 'legacy-shutdown', version: '1' }), transport };
}

describe('shutdown with legacy SSE sessions', () => {
  it('answers a slow call in flight on /sse before ending the stream', async () => {
    const { app, base } = await startApp({ SHUTDOWN_TIMEOUT_MS: '5000' }, { mini: server('team-a', 'mini', [MINI]) });
    const { client, transport } = legacyClient(`${base}/servers/mini/sse`);
    let closed: Promise<void> | undefined;
    try {
      await client.connect(transport);
      // About 600 ms of work, reporting progress (which also keeps the call alive).
      const call = client.callTool({ name: 'progress', arguments: { ticks: 6, every: 100 } }, undefined, { onprogress: () => undefined, timeout: 5000 });
      for (let i = 0; i < 100 && app.sessions.inFlight === 0; i++) await new Promise((r) => setTimeout(r, 10));
      expect(app.sessions.inFlight).toBe(1);
      closed = app.close();
      const result = await call;
      expect(result.isError).toBeFalsy();
      expect(JSON.stringify(result.content)).toContain('token');
      await closed;
      expect(app.sessions.size).toBe(0);
    } finally {
      await client.close().catch(() => undefined);
      if (!closed) await app.close();
    }
  });
});
