// The two scopes DeployStack issues: reading (list, get, initialize ...) and running tools.
export const SCOPE_READ = 'mcp:read';
export const SCOPE_EXECUTE = 'mcp:tools:execute';
export const SUPPORTED_SCOPES: readonly string[] = [SCOPE_READ, SCOPE_EXECUTE];

/** The scope a JSON-RPC method needs: tools/call executes, everything else reads. */
export function requiredScope(method: string): string {
  return method === 'tools/call' ? SCOPE_EXECUTE : SCOPE_READ;
}

export function parseScopes(scope: unknown): string[] {
  if (Array.isArray(scope)) return scope.filter((s): s is string => typeof s === 'string');
  return typeof scope === 'string' ? scope.split(' ').filter(Boolean) : [];
}
