/** Which server a command is about; the backend sends some of these fields depending on its version. */
export interface InstallationRef {
  installation_id?: string;
  installation_name?: string;
  team_id?: string;
  user_id?: string;
}

/**
 * What backend commands act on outside the backend link. The lead wires these to the
 * ServerRegistry, the auth token cache and the gateway; until then each command fails cleanly.
 */
export interface CommandTargets {
  start(ref: InstallationRef): Promise<void>;
  restart(ref: InstallationRef): Promise<void>;
  stop(ref: InstallationRef): Promise<void>;
  /** Drops every cached introspection / upstream-token entry of one user; returns how many. */
  invalidateUserTokens(userId: string): number | Promise<number>;
  setToolDisabled(ref: { installation_id: string; tool_name: string; disabled: boolean }): void | Promise<void>;
  healthCheck(opts: { installation_id?: string; check_type: string }): Promise<Record<string, unknown>>;
  /** mcp_recovery: reconnect an HTTP/SSE server and discover its tools again. */
  recover(ref: InstallationRef): Promise<Record<string, unknown>>;
  /** mcp_redeploy: restart the installation on its (freshly fetched) configuration. */
  redeploy(ref: InstallationRef): Promise<Record<string, unknown>>;
}

const unavailable = (what: string) => () => Promise.reject(new Error(`${what} is not available on this satellite`));

export const UNWIRED_TARGETS: CommandTargets = {
  start: unavailable('starting a server'),
  restart: unavailable('restarting a server'),
  stop: unavailable('stopping a server'),
  invalidateUserTokens: unavailable('token cache invalidation'),
  setToolDisabled: unavailable('tool status updates'),
  healthCheck: unavailable('health checks'),
  recover: unavailable('server recovery'),
  redeploy: unavailable('server redeployment')
};
