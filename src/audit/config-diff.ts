import type { StandaloneConfig } from '../config/standalone';

/** Which server entries a config change added, removed or altered (by key; values are never logged). */
export function diffServers(next: StandaloneConfig, previous: StandaloneConfig): { added: string[]; removed: string[]; changed: string[] } {
  const before = previous.mcp_servers;
  const after = next.mcp_servers;
  const added = Object.keys(after).filter((k) => !(k in before));
  const removed = Object.keys(before).filter((k) => !(k in after));
  const changed = Object.keys(after).filter((k) => k in before && JSON.stringify(after[k]) !== JSON.stringify(before[k]));
  return { added, removed, changed };
}
