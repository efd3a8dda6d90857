// Large catalogs: two meta-tools instead of every tool (as the DeployStack satellite does,
// reference §5), with the team filter applied BEFORE the limit (§8 item 5).
import type { JsonObject } from '../mcp/jsonrpc';
import type { CatalogIndex } from './catalog-index';
import { SEPARATOR } from './naming';
import { searchTools } from './tool-search';

export const DISCOVER = 'discover_mcp_tools';
export const EXECUTE = 'execute_mcp_tool';
const DEFAULT_LIMIT = 10;
const MAX_LIMIT = 50;

export const META_TOOLS: JsonObject[] = [
  {
    name: DISCOVER,
    description: 'Search the tools of every MCP server available to you. Returns tool paths (server__tool) with descriptions and input schemas; call one with execute_mcp_tool. Use 1-3 keywords, or "*" to list all.',
    inputSchema: {
      type: 'object',
      properties: {
        query: { type: 'string', description: 'keywords, or * for everything' },
        limit: { type: 'integer', minimum: 1, maximum: MAX_LIMIT, default: DEFAULT_LIMIT }
      },
      required: ['query']
    },
    annotations: { readOnlyHint: true }
  },
  {
    name: EXECUTE,
    description: 'Run a tool found with discover_mcp_tools.',
    inputSchema: {
      type: 'object',
      properties: {
        tool_path: { type: 'string', description: 'the tool_path from discover_mcp_tools, e.g. github__create_issue' },
        arguments: { type: 'object', description: "the tool's arguments, following its input_schema" }
      },
      required: ['tool_path']
    }
  }
];

/** discover_mcp_tools over the caller's own (already team-filtered) index. */
export function discover(index: CatalogIndex, args: JsonObject): JsonObject {
  const started = performance.now();
  const query = typeof args.query === 'string' ? args.query : '*';
  const limit = Number.isInteger(args.limit) ? Math.min(Math.max(args.limit as number, 1), MAX_LIMIT) : DEFAULT_LIMIT;
  const candidates = index.tools.map((t) => ({
    name: String(t.item.name), description: typeof t.item.description === 'string' ? t.item.description : '', slug: t.upstream.serverSlug, routed: t
  }));
  const hits = searchTools(query, candidates, Number.MAX_SAFE_INTEGER);
  const tools = hits.slice(0, limit).map(({ tool, score }) => ({
    tool_path: tool.routed.name,
    description: tool.description,
    server_name: tool.slug,
    transport: tool.routed.upstream.config.transport_type,
    relevance_score: Math.round(score * 1000) / 1000,
    input_schema: tool.routed.item.inputSchema
  }));
  const body = { tools, total_found: hits.length, search_time_ms: Math.round(performance.now() - started), query };
  return { content: [{ type: 'text', text: JSON.stringify(body) }], structuredContent: body };
}

/** The original used `slug:tool`; both spellings are accepted. */
export function normalizeToolPath(path: string): string {
  const colon = path.indexOf(':');
  return !path.includes(SEPARATOR) && colon > 0 ? `${path.slice(0, colon)}${SEPARATOR}${path.slice(colon + 1)}` : path;
}
