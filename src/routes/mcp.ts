import fp from 'fastify-plugin';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ErrorCode } from '../mcp/jsonrpc';
import type { SessionTarget } from '../mcp/session-contract';
import { identityOf } from '../transports/deps';
import { sendJsonRpcError } from '../transports/http-guards';
import { transportContext } from '../transports/route-context';
import { teamTarget } from '../transports/team-target';
import { handleDelete, handleGet, handlePost } from '../transports/streamable-http';
import { headerGate, modernContext, modernPost, modernStreamRefusal } from '../transports/modern/routes';

const serverTarget = (req: FastifyRequest): SessionTarget => ({
  kind: 'server',
  teamId: identityOf(req).teamId,
  serverSlug: (req.params as { slug: string }).slug
});

const methodNotAllowed = (reply: FastifyReply) => sendJsonRpcError(reply, 405, ErrorCode.ConnectionClosed, 'Method not allowed');

const HEADERS_DOC = 'Headers: Mcp-Session-Id (after initialize), MCP-Protocol-Version, Accept: application/json, text/event-stream; Last-Event-ID on GET to resume. 2026-07-28 clients: no session; MCP-Protocol-Version, Mcp-Method and Mcp-Name must match the body.';
const slugParams = { type: 'object', required: ['slug'], properties: { slug: { type: 'string', description: 'server_slug of one of the team\'s servers' } } } as const;

// Streamable HTTP: the team endpoint (/mcp) and one server passed through (/servers/:slug/mcp).
export default fp(async (app: FastifyInstance) => {
  const { deps, onRequest } = transportContext(app);
  // 2026-07-28 beside the 2025 era on the same URLs (src/transports/modern/).
  const modern = modernContext(app, deps);
  const preParsing = headerGate(app, deps);
  const endpoints: Array<{ url: string; target: (req: FastifyRequest) => SessionTarget; what: string; params?: typeof slugParams }> = [
    { url: '/mcp', target: teamTarget, what: 'team endpoint: every server of the caller\'s team, tools named <server_slug>__<tool>' },
    { url: '/servers/:slug/mcp', target: serverTarget, what: 'one server of the caller\'s team, passed through unrenamed', params: slugParams }
  ];
  for (const e of endpoints) {
    const schema = (summary: string) => ({ summary: `${summary} (${e.what})`, description: HEADERS_DOC, tags: ['mcp'], security: [{ bearerAuth: [] }], ...(e.params ? { params: e.params } : {}) });
    app.post(e.url, { onRequest, preParsing, schema: schema('MCP Streamable HTTP: JSON-RPC message (2025 sessions, or stateless 2026-07-28 requests)') },
      (req, reply) => modernPost(modern, req, reply, e.target(req)) ?? handlePost(deps, req, reply, e.target(req)));
    app.get(e.url, { onRequest, schema: schema('MCP Streamable HTTP: server-to-client SSE stream, or resume one with Last-Event-ID') },
      (req, reply) => modernStreamRefusal(req, reply) ?? handleGet(deps, req, reply, e.target(req)));
    app.delete(e.url, { onRequest, schema: schema('MCP Streamable HTTP: end the session') },
      (req, reply) => modernStreamRefusal(req, reply) ?? handleDelete(deps, req, reply, e.target(req)));
    app.route({ method: ['PUT', 'PATCH'], url: e.url, schema: { hide: true }, handler: (_req, reply) => methodNotAllowed(reply.header('allow', 'GET, POST, DELETE')) });
  }
}, { name: 'mcp-routes', encapsulate: true, dependencies: ['config', 'auth', 'transports', 'session-handlers'] });
