// A real SDK MCP server on loopback that serves only requests carrying the bearer it currently
// accepts (401 otherwise), like a remote server behind its own OAuth.
import { createServer, type IncomingMessage, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { CallToolRequestSchema, ListToolsRequestSchema } from '@modelcontextprotocol/sdk/types.js';

export interface OAuthMcpServer {
  url: string;
  /** Bearer tokens accepted now; clear it to make the server answer 401. */
  accepted: Set<string>;
  /** Authorization headers seen, in order. */
  seen: Array<string | undefined>;
  close(): Promise<void>;
}

async function readBody(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  return text ? JSON.parse(text) : undefined;
}

export async function startOAuthMcpServer(): Promise<OAuthMcpServer> {
  const accepted = new Set<string>();
  const seen: Array<string | undefined> = [];
  const http: HttpServer = createServer((req, res) => {
    void (async () => {
      seen.push(req.headers.authorization);
      const token = req.headers.authorization?.replace(/^Bearer /, '');
      if (!token || !accepted.has(token)) {
        res.writeHead(401, { 'www-authenticate': 'Bearer error="invalid_token"', 'content-type': 'application/json' }).end('{"error":"invalid_token"}');
        return;
      }
      // Stateless: a fresh server and transport per request.
      const server = new Server({ name: 'oauth-protected', version: '1.0.0' }, { capabilities: { tools: {} } });
      server.setRequestHandler(ListToolsRequestSchema, async () => ({ tools: [{ name: 'whoami', description: 'The bearer it saw', inputSchema: { type: 'object' } }] }));
      server.setRequestHandler(CallToolRequestSchema, async () => ({ content: [{ type: 'text', text: JSON.stringify({ bearer: token }) }] }));
      const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
      res.on('close', () => void transport.close());
      await server.connect(transport);
      await transport.handleRequest(req, res, req.method === 'POST' ? await readBody(req) : undefined);
    })().catch(() => {
      if (!res.headersSent) res.writeHead(500).end();
    });
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const { port } = http.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/mcp`,
    accepted,
    seen,
    close: () => new Promise((resolve) => {
      http.closeAllConnections();
      http.close(() => resolve());
    })
  };
}
