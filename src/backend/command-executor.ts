import type { BackendCommand, CommandResult } from './client';
import type { CommandTargets, InstallationRef } from './command-targets';
import type { ConfigSync } from './config-sync';

class CommandInputError extends Error {}

const str = (v: unknown): string | undefined => (typeof v === 'string' && v.length > 0 ? v : undefined);

function installationRef(p: Record<string, unknown>): InstallationRef {
  const ctx = typeof p.team_context === 'object' && p.team_context !== null ? (p.team_context as Record<string, unknown>) : {};
  const ref: InstallationRef = {
    installation_id: str(p.installation_id),
    installation_name: str(p.installation_name) ?? str(p.server_name),
    team_id: str(p.team_id) ?? str(ctx.team_id),
    user_id: str(p.user_id)
  };
  if (!ref.installation_id && !ref.installation_name) throw new CommandInputError('payload needs installation_id or installation_name');
  return ref;
}

/** Runs one backend command (reference §3.5) and shapes the result the way the backend's schema names it. */
export class CommandExecutor {
  constructor(private readonly configSync: ConfigSync, private readonly targets: () => CommandTargets) {}

  async execute(cmd: BackendCommand): Promise<CommandResult> {
    try {
      const result = await this.#run(cmd);
      return { command_id: cmd.id, status: 'completed', result };
    } catch (err) {
      return { command_id: cmd.id, status: 'failed', error_message: (err as Error).message || String(err) };
    }
  }

  async #run(cmd: BackendCommand): Promise<Record<string, unknown>> {
    const p = cmd.payload;
    const t = this.targets();
    switch (cmd.command_type) {
      case 'configure': {
        if (p.action === 'update_tool_status') {
          const installation_id = str(p.installation_id);
          const tool_name = str(p.tool_name);
          if (!installation_id || !tool_name || typeof p.is_disabled !== 'boolean') {
            throw new CommandInputError('update_tool_status needs installation_id, tool_name and a boolean is_disabled');
          }
          await t.setToolDisabled({ installation_id, tool_name, disabled: p.is_disabled });
          return { installation_id, tool_name, is_disabled: p.is_disabled };
        }
        if (p.event === 'mcp_recovery') {
          const ref = installationRef(p);
          return { event: 'mcp_recovery', ...ref, ...(await t.recover(ref)) };
        }
        if (p.event === 'mcp_redeploy') {
          const ref = installationRef(p);
          // A redeploy may come with a new configuration: fetch it before restarting.
          await this.configSync.sync('configure command mcp_redeploy');
          return { event: 'mcp_redeploy', ...ref, commit_sha: str(p.commit_sha) ?? null, branch: str(p.branch) ?? null, ...(await t.redeploy(ref)) };
        }
        const started = Date.now();
        const o = await this.configSync.sync(`configure command ${str(p.event) ?? ''}`.trim());
        return { configuration_applied: true, changed: o.changed, total_servers: o.total_servers, enabled_servers: o.enabled_servers, rejected_servers: o.rejected, startup_time_ms: Date.now() - started };
      }
      case 'spawn': {
        const ref = installationRef(p);
        // The server may be new: make sure its configuration is here first.
        await this.configSync.sync('spawn command');
        await t.start(ref);
        return { spawned: true, ...ref };
      }
      case 'kill': {
        const ref = installationRef(p);
        await t.stop(ref);
        return { stopped: true, ...ref };
      }
      case 'restart': {
        const ref = installationRef(p);
        await t.restart(ref);
        return { restarted: true, ...ref };
      }
      case 'health_check':
        return t.healthCheck({ installation_id: str(p.installation_id), check_type: str(p.check_type) ?? 'connectivity' });
      case 'invalidate_user_token_cache': {
        const userId = str(p.user_id);
        if (!userId) throw new CommandInputError('invalidate_user_token_cache needs payload.user_id');
        const count = await t.invalidateUserTokens(userId);
        return { user_id: userId, user_email: str(p.user_email) ?? null, invalidated_count: count, message: `invalidated ${count} cached token(s)` };
      }
      default:
        throw new CommandInputError(`unknown command type "${cmd.command_type}"`);
    }
  }
}
