#!/usr/bin/env node
// Row (d): the MCP SDK's own Streamable HTTP server transport, stateful (one McpServer and one
// transport per session), with the echo tool in-process. Usage: node bench/sdk-server.mjs <port>
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { isInitializeRequest } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';

const port = Number(process.argv[2] ?? 0);
const transports = new Map();

function newSession() {
  const server = new McpServer({ name: 'bench-sdk-echo', version: '1.0.0' });
  server.registerTool('echo', { description: 'Returns its text argument unchanged', inputSchema: { text: z.string() } }, async ({ text }) => ({
    content: [{ type: 'text', text }]
  }));
  const transport = new StreamableHTTPServerTransport({
    sessionIdGenerator: () => randomUUID(),
    onsessioninitialized: (id) => transports.set(id, transport)
  });
  transport.onclose = () => {
    if (transport.sessionId) transports.delete(transport.sessionId);
  };
  return { server, transport };
}

function readJson(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      try {
        resolve(chunks.length ? JSON.parse(Buffer.concat(chunks).toString('utf8')) : undefined);
      } catch (err) {
        reject(err);
      }
    });
    req.on('error', reject);
  });
}

function fail(res, status, message) {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ jsonrpc: '2.0', id: null, error: { code: -32000, message } }));
}

const http = createServer(async (req, res) => {
  if (!req.url?.startsWith('/mcp')) return fail(res, 404, 'not found');
  const sid = req.headers['mcp-session-id'];
  try {
    const body = req.method === 'POST' ? await readJson(req) : undefined;
    let transport = typeof sid === 'string' ? transports.get(sid) : undefined;
    if (!transport) {
      if (sid !== undefined) return fail(res, 404, 'unknown session');
      if (req.method !== 'POST' || !isInitializeRequest(body)) return fail(res, 400, 'no session');
      const s = newSession();
      await s.server.connect(s.transport);
      transport = s.transport;
    }
    await transport.handleRequest(req, res, body);
  } catch (err) {
    if (!res.headersSent) fail(res, 400, err instanceof Error ? err.message : String(err));
  }
});
http.keepAliveTimeout = 60_000;
http.listen(port, '127.0.0.1', () => {
  const addr = http.address();
  process.stdout.write(`listening ${typeof addr === 'object' && addr ? addr.port : port}\n`);
});
process.on('SIGTERM', () => process.exit(0));
