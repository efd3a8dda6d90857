// A real MCP server (the SDK's low-level Server) on 127.0.0.1, over Streamable HTTP or the legacy
// HTTP+SSE transport, with a few tools that exercise what a gateway must carry: progress, logging,
// sampling, cancellation, headers. Used as the remote upstream in tests.
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server as HttpServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { SSEServerTransport } from '@modelcontextprotocol/sdk/server/sse.js';
import { InMemoryEventStore } from '@modelcontextprotocol/sdk/examples/shared/inMemoryEventStore.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import {
  CallToolRequestSchema, CompleteRequestSchema, CreateMessageResultSchema, GetPromptRequestSchema, ListPromptsRequestSchema,
  ListResourcesRequestSchema, ListResourceTemplatesRequestSchema, ListToolsRequestSchema, ReadResourceRequestSchema,
  SubscribeRequestSchema, UnsubscribeRequestSchema
} from '@modelcontextprotocol/sdk/types.js';

export interface SeenRequest {
  method: string;
  url: string;
  authorization?: string;
  sessionId?: string;
  protocolVersion?: string;
  lastEventId?: string;
}

export interface TestMcpServer {
  readonly url: string;
  readonly seen: SeenRequest[];
  /** Tool names currently offered (besides the fixed ones). */
  extraTools: string[];
  /** Sends notifications/tools/list_changed on every open session. */
  toolsChanged(): Promise<void>;
  resourceUpdated(uri: string): Promise<void>;
  /** Stops listening and drops every session; the port stays reserved for restart(). */
  stop(): Promise<void>;
  /** Listens again on the same port with no sessions (clients get 404 on their old session id). */
  start(): Promise<void>;
  readonly sessionCount: number;
  /** While true, POSTs get no answer and open streams stay open (a server hung without closing anything); unfreezing drops the held requests. */
  frozen: boolean;
  /** Every resources/subscribe (+uri) and resources/unsubscribe (-uri) received, in order, over all sessions. */
  readonly subscriptionCalls: string[];
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export async function startMcpHttpServer(opts: { name: string; mode?: 'streamable' | 'sse' }): Promise<TestMcpServer> {
  const mode = opts.mode ?? 'streamable';
  const seen: SeenRequest[] = [];
  const sessions = new Map<string, { server: Server; transport: StreamableHTTPServerTransport | SSEServerTransport }>();
  const state = { extraTools: [] as string[], frozen: false };
  const held = new Set<ServerResponse>();
  const subscriptionCalls: string[] = [];

  const makeServer = (): Server => {
    const server = new Server({ name: opts.name, version: '1.0.0' }, {
      capabilities: { tools: { listChanged: true }, resources: { subscribe: true, listChanged: true }, prompts: { listChanged: true }, logging: {}, completions: {} }
    });
    const tools = () => [
      { name: 'echo', description: `Echo text back from ${opts.name}`, inputSchema: { type: 'object', properties: { text: { type: 'string' } } } },
      { name: 'whoami', description: 'Tells which Authorization header and query the server saw', inputSchema: { type: 'object' } },
      { name: 'progress', description: 'Reports progress three times', inputSchema: { type: 'object' } },
      { name: 'ask', description: 'Asks the client to sample a message', inputSchema: { type: 'object' } },
      { name: 'slow', description: 'Waits ms milliseconds', inputSchema: { type: 'object', properties: { ms: { type: 'number' } } } },
      { name: 'polled', description: 'Closes its answer stream early; the client must resume it', inputSchema: { type: 'object' } },
      ...state.extraTools.map((name) => ({ name, description: `Extra tool ${name}`, inputSchema: { type: 'object' } }))
    ];
    server.setRequestHandler(ListToolsRequestSchema, async () => ({ tools: tools() }));
    server.setRequestHandler(CallToolRequestSchema, async (req, extra) => {
      const args = (req.params.arguments ?? {}) as Record<string, unknown>;
      const text = (t: string) => ({ content: [{ type: 'text' as const, text: t }] });
      switch (req.params.name) {
        case 'echo': return { ...text(`${opts.name}:${String(args.text)}`), structuredContent: { server: opts.name, text: args.text } };
        case 'whoami': {
          const h = extra.requestInfo?.headers ?? {};
          return text(JSON.stringify({ server: opts.name, authorization: h.authorization ?? null, url: (extra.requestInfo as { url?: URL } | undefined)?.url?.search ?? null }));
        }
        case 'progress': {
          const token = req.params._meta?.progressToken;
          for (let i = 1; i <= 3; i++) {
            if (token !== undefined) await extra.sendNotification({ method: 'notifications/progress', params: { progressToken: token, progress: i, total: 3 } });
          }
          await extra.sendNotification({ method: 'notifications/message', params: { level: 'info', data: `progress done on ${opts.name}` } });
          return text('done');
        }
        case 'ask': {
          const r = await extra.sendRequest({ method: 'sampling/createMessage', params: { messages: [{ role: 'user', content: { type: 'text', text: 'hello?' } }], maxTokens: 10 } }, CreateMessageResultSchema);
          return text(`client said: ${(r.content as { text?: string }).text ?? ''}`);
        }
        case 'polled': {
          const token = req.params._meta?.progressToken;
          if (token !== undefined) await extra.sendNotification({ method: 'notifications/progress', params: { progressToken: token, progress: 1, total: 2 } });
          extra.closeSSEStream?.();
          await sleep(100);
          if (token !== undefined) await extra.sendNotification({ method: 'notifications/progress', params: { progressToken: token, progress: 2, total: 2 } });
          return text('polled done');
        }
        case 'slow': {
          const until = Date.now() + Number(args.ms ?? 1000);
          // {tick}: progress every `tick` ms while waiting.
          const tick = Number(args.tick ?? 0);
          const token = req.params._meta?.progressToken;
          let ticks = 0;
          while (Date.now() < until && !extra.signal.aborted) {
            await sleep(tick || 20);
            if (tick && token !== undefined && !extra.signal.aborted) await extra.sendNotification({ method: 'notifications/progress', params: { progressToken: token, progress: ++ticks } });
          }
          return text(extra.signal.aborted ? 'aborted' : 'slow done');
        }
        default:
          if (state.extraTools.includes(req.params.name)) return text(`${opts.name} ran ${req.params.name}`);
          return { ...text(`Unknown tool ${req.params.name}`), isError: true };
      }
    });
    server.setRequestHandler(ListResourcesRequestSchema, async () => ({
      resources: [{ uri: `res://${opts.name}/info`, name: 'info' }, { uri: 'res://shared/readme', name: `readme of ${opts.name}` }]
    }));
    server.setRequestHandler(ListResourceTemplatesRequestSchema, async () => ({
      resourceTemplates: [{ uriTemplate: `res://${opts.name}/items/{id}`, name: 'item' }]
    }));
    server.setRequestHandler(ReadResourceRequestSchema, async (req) => ({
      contents: [{ uri: req.params.uri, text: `${opts.name} read ${req.params.uri}` }]
    }));
    server.setRequestHandler(SubscribeRequestSchema, async (req) => {
      subscriptionCalls.push(`+${req.params.uri}`);
      return {};
    });
    server.setRequestHandler(UnsubscribeRequestSchema, async (req) => {
      subscriptionCalls.push(`-${req.params.uri}`);
      return {};
    });
    server.setRequestHandler(ListPromptsRequestSchema, async () => ({ prompts: [{ name: 'greet', description: `Greeting from ${opts.name}`, arguments: [{ name: 'who' }] }] }));
    server.setRequestHandler(GetPromptRequestSchema, async (req) => ({
      messages: [{ role: 'user', content: { type: 'text', text: `${opts.name} greets ${req.params.arguments?.who ?? 'nobody'}` } }]
    }));
    server.setRequestHandler(CompleteRequestSchema, async (req) => ({ completion: { values: [`${opts.name}-${req.params.argument.value}`] } }));
    return server;
  };

  const readBody = async (req: IncomingMessage): Promise<unknown> => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    return text ? JSON.parse(text) : undefined;
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const sid = req.headers['mcp-session-id'];
    seen.push({
      method: req.method ?? '', url: req.url ?? '', authorization: req.headers.authorization,
      sessionId: typeof sid === 'string' ? sid : undefined, protocolVersion: req.headers['mcp-protocol-version'] as string | undefined,
      lastEventId: req.headers['last-event-id'] as string | undefined
    });
    if (state.frozen && req.method === 'POST') {
      held.add(res);
      return;
    }
    if (mode === 'sse') {
      if (req.method === 'GET' && req.url?.startsWith('/sse')) {
        const transport = new SSEServerTransport('/messages', res);
        const server = makeServer();
        sessions.set(transport.sessionId, { server, transport });
        transport.onclose = () => void sessions.delete(transport.sessionId);
        await server.connect(transport);
        return;
      }
      const id = new URL(req.url ?? '/', 'http://x').searchParams.get('sessionId') ?? '';
      const s = sessions.get(id);
      if (req.method === 'POST' && s) return (s.transport as SSEServerTransport).handlePostMessage(req, res, await readBody(req));
      res.writeHead(404).end('unknown session');
      return;
    }
    const body = req.method === 'POST' ? await readBody(req) : undefined;
    if (typeof sid === 'string') {
      const s = sessions.get(sid);
      if (!s) {
        res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ jsonrpc: '2.0', id: null, error: { code: -32001, message: 'Session not found' } }));
        return;
      }
      return (s.transport as StreamableHTTPServerTransport).handleRequest(req, res, body);
    }
    const transport = new StreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      eventStore: new InMemoryEventStore(),
      retryInterval: 50,
      onsessioninitialized: (id) => void sessions.set(id, { server, transport })
    });
    transport.onclose = () => { if (transport.sessionId) sessions.delete(transport.sessionId); };
    const server = makeServer();
    await server.connect(transport);
    await transport.handleRequest(req, res, body);
  };

  let http: HttpServer | undefined;
  let port = 0;
  const start = async (): Promise<void> => {
    http = createServer((req, res) => void handle(req, res).catch((err) => {
      if (!res.headersSent) res.writeHead(500).end(String(err));
    }));
    await new Promise<void>((resolve) => http!.listen(port, '127.0.0.1', resolve));
    port = (http.address() as AddressInfo).port;
  };
  const stop = async (): Promise<void> => {
    for (const s of sessions.values()) await s.server.close().catch(() => undefined);
    sessions.clear();
    const h = http;
    http = undefined;
    if (!h) return;
    h.closeAllConnections();
    await new Promise<void>((resolve) => h.close(() => resolve()));
  };
  await start();
  const path = mode === 'sse' ? '/sse' : '/mcp';
  return {
    get url() { return `http://127.0.0.1:${port}${path}`; },
    seen,
    get extraTools() { return state.extraTools; },
    set extraTools(v: string[]) { state.extraTools = v; },
    async toolsChanged() { for (const s of sessions.values()) await s.server.sendToolListChanged().catch(() => undefined); },
    async resourceUpdated(uri: string) { for (const s of sessions.values()) await s.server.sendResourceUpdated({ uri }).catch(() => undefined); },
    stop,
    start,
    get sessionCount() { return sessions.size; },
    get frozen() { return state.frozen; },
    set frozen(v: boolean) {
      state.frozen = v;
      if (v) return;
      for (const res of held) res.destroy();
      held.clear();
    },
    subscriptionCalls
  };
}
