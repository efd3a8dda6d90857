// Which teams a config change touches (their servers or team settings), for list_changed.
import type { StandaloneConfig } from '../config/standalone';
import { stableStringify } from '../servers/server-key';

function byTeam(config: StandaloneConfig): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const [id, team] of Object.entries(config.teams)) out.set(id, [stableStringify(team)]);
  for (const server of Object.values(config.mcp_servers)) {
    const list = out.get(server.team_id) ?? [];
    list.push(stableStringify(server));
    out.set(server.team_id, list);
  }
  return out;
}

export function changedTeams(next: StandaloneConfig, previous: StandaloneConfig): Set<string> {
  const a = byTeam(previous);
  const b = byTeam(next);
  const changed = new Set<string>();
  for (const id of new Set([...a.keys(), ...b.keys()])) {
    if (JSON.stringify((a.get(id) ?? []).sort()) !== JSON.stringify((b.get(id) ?? []).sort())) changed.add(id);
  }
  return changed;
}
