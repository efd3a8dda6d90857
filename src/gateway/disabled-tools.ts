// Tools switched off for a team: by config (`disabled_tools`) or at runtime (the backend's
// update_tool_status command), per installation id or server slug.
import type { McpServerConfig } from '../config/server-config';

/** Backend commands name an installation without its team: installation ids are unique across teams. */
export const ANY_TEAM = '\u0000any';

export class DisabledTools {
  /** team (or ANY_TEAM for installation ids, unique across teams) → installation id or slug → tool names */
  readonly #runtime = new Map<string, Map<string, Set<string>>>();

  /** True when this changed anything. */
  set(teamId: string, installationOrSlug: string, toolName: string, disabled: boolean): boolean {
    let team = this.#runtime.get(teamId);
    if (!team) this.#runtime.set(teamId, (team = new Map()));
    let tools = team.get(installationOrSlug);
    if (!tools) team.set(installationOrSlug, (tools = new Set()));
    const had = tools.has(toolName);
    if (disabled) tools.add(toolName);
    else tools.delete(toolName);
    return had !== disabled;
  }

  isDisabled(config: McpServerConfig, toolName: string): boolean {
    if (config.disabled_tools?.includes(toolName)) return true;
    const team = this.#runtime.get(config.team_id);
    return Boolean(team?.get(config.installation_id)?.has(toolName) || team?.get(config.server_slug)?.has(toolName)
      || this.#runtime.get(ANY_TEAM)?.get(config.installation_id)?.has(toolName));
  }
}
