// RFC 9728 / RFC 6750 challenge pieces: where a resource's metadata lives and the WWW-Authenticate header.

/** The MCP path a request targets, for the path-inserted metadata URL; undefined for /sse, /message etc. */
export function mcpResourcePath(urlPath: string): string | undefined {
  const path = urlPath.split('?')[0] ?? '';
  if (path === '/mcp') return '/mcp';
  const m = /^\/servers\/([a-z0-9][a-z0-9_-]{0,62})\/mcp$/.exec(path);
  return m ? `/servers/${m[1]}/mcp` : undefined;
}

export function resourceMetadataUrl(base: string, resourcePath: string | undefined): string {
  return `${base}/.well-known/oauth-protected-resource${resourcePath ?? ''}`;
}

const quote = (v: string): string => `"${v.replace(/["\\]/g, '')}"`;

export interface ChallengeParams {
  resourceMetadata: string;
  scope?: string;
  error?: string;
  description?: string;
}

export function wwwAuthenticate(p: ChallengeParams): string {
  const parts = [`resource_metadata=${quote(p.resourceMetadata)}`];
  if (p.scope) parts.push(`scope=${quote(p.scope)}`);
  if (p.error) parts.push(`error=${quote(p.error)}`);
  if (p.description) parts.push(`error_description=${quote(p.description)}`);
  return `Bearer ${parts.join(', ')}`;
}
