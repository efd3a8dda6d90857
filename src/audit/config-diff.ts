import type { StandaloneConfig } from '../config/standalone';

export interface ConfigDiff {
  added: string[];
  removed: string[];
  changed: string[];
  teamsChanged: boolean;
  grantsChanged: boolean;
}

const keysDiff = (after: Record<string, unknown>, before: Record<string, unknown>) => ({
  added: Object.keys(after).filter((k) => !(k in before)),
  removed: Object.keys(before).filter((k) => !(k in after)),
  changed: Object.keys(after).filter((k) => k in before && JSON.stringify(after[k]) !== JSON.stringify(before[k]))
});

/**
 * What a config change did: server entries by key, and whether teams or tokens moved. Token keys
 * are the tokens themselves, so for them (grantsChanged) only the fact of a change is recorded.
 */
export function diffConfig(next: StandaloneConfig, previous: StandaloneConfig): ConfigDiff {
  return {
    ...keysDiff(next.mcp_servers, previous.mcp_servers),
    teamsChanged: JSON.stringify(next.teams) !== JSON.stringify(previous.teams),
    grantsChanged: JSON.stringify(next.tokens) !== JSON.stringify(previous.tokens) || JSON.stringify(next.anonymous) !== JSON.stringify(previous.anonymous)
  };
}
