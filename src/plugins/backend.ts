import fp from 'fastify-plugin';
import type { FastifyInstance } from 'fastify';
import type { CommandTargets } from '../backend/command-targets';
import type { ProcessSource } from '../backend/heartbeat';
import backendStatusRoute from '../backend/status-route';
import { registerBackendJobs, type JobRegistry } from '../backend/jobs';
import { processesFromRegistry, targetsFromRegistry, type RegistryLike } from '../backend/registry-targets';
import { BackendLink, DEFAULT_INTERVALS, type LinkIntervals } from '../backend/link';
import type { DurableEventQueue } from '../events/journal';

declare module 'fastify' {
  interface FastifyInstance {
    /** The DeployStack link in backend mode (null standalone). `app.backend.client` serves introspection. */
    backend: BackendLink | null;
  }
}

interface AuditSink {
  record(action: 'command.executed', data: { command: string; commandId?: string; outcome: 'ok' | 'error'; error?: string }): void;
}

interface AuthHooks {
  useBackendApiKey?(provider: () => string | undefined): void;
  invalidateUser?(userId: string): number;
}

// The auth plugin (when registered) introspects with our API key and owns the token cache that
// `invalidate_user_token_cache` clears; other targets are wired by whoever owns them.
function wireAuth(app: FastifyInstance, link: BackendLink): void {
  if (!app.hasDecorator('auth')) return;
  const auth = app.getDecorator<AuthHooks>('auth');
  auth.useBackendApiKey?.(() => link.apiKey);
  const invalidate = auth.invalidateUser?.bind(auth);
  if (invalidate) link.patchTargets({ invalidateUserTokens: (userId) => invalidate(userId) }, true);
}

// The server registry (when registered) answers start/restart/stop/health commands and fills the
// heartbeat's processes, unless plugin options or setTargets/setProcessSource said otherwise.
function wireServers(app: FastifyInstance, link: BackendLink): void {
  if (!app.hasDecorator('servers')) return;
  const registry = app.getDecorator<Partial<RegistryLike>>('servers');
  if (typeof registry.byInstallation !== 'function' || typeof registry.list !== 'function') return;
  link.setProcessSource(processesFromRegistry(registry as RegistryLike), true);
  link.patchTargets(targetsFromRegistry(registry as RegistryLike, {
    reportStatus: (s, status, message) => app.events.emit('mcp.server.status_changed', {
      installation_id: s.installationId, team_id: s.teamId, ...(s.userId ? { user_id: s.userId } : {}), status, ...(message ? { status_message: message } : {})
    })
  }), true);
}

interface GatewayHooks {
  setToolDisabledByInstallation?(installationId: string, toolName: string, disabled: boolean): boolean;
}

// The team gateway hides and refuses tools the backend switches off (update_tool_status).
function wireGateway(app: FastifyInstance, link: BackendLink): void {
  if (!app.hasDecorator('teamGateway')) return;
  const gateway = app.getDecorator<GatewayHooks>('teamGateway');
  const set = gateway.setToolDisabledByInstallation?.bind(gateway);
  if (set) link.patchTargets({ setToolDisabled: (r) => void set(r.installation_id, r.tool_name, r.disabled) }, true);
}

export interface BackendPluginOptions {
  targets?: CommandTargets;
  processes?: ProcessSource;
  intervals?: Partial<LinkIntervals>;
}

/**
 * Runs the backend link when DEPLOYSTACK_BACKEND_URL is set. The link starts once the app is
 * ready but never delays it: the persisted configuration is served while it connects.
 */
export default fp(async (app: FastifyInstance, opts: BackendPluginOptions) => {
  const { env } = app.satellite;
  await app.register(backendStatusRoute);
  if (!env.backend.url) {
    app.decorate('backend', null);
    return;
  }
  const link = new BackendLink({
    env,
    store: app.configStore,
    events: app.events,
    queue: app.events.sink as DurableEventQueue | undefined,
    log: app.log.child({ component: 'backend' }),
    targets: opts.targets,
    processes: opts.processes,
    intervals: opts.intervals,
    periodicByJobs: app.hasDecorator('jobs'),
    onCommandExecuted: (cmd, result) => {
      if (!app.hasDecorator('audit')) return;
      app.getDecorator<AuditSink>('audit').record('command.executed', {
        command: cmd.command_type,
        commandId: cmd.id,
        outcome: result.status === 'completed' ? 'ok' : 'error',
        ...(result.error_message ? { error: result.error_message } : {})
      });
    }
  });
  if (app.hasDecorator('jobs')) {
    registerBackendJobs(app.getDecorator<JobRegistry>('jobs'), link, { ...DEFAULT_INTERVALS, ...opts.intervals }, env.events.batchIntervalMs);
  }
  app.decorate('backend', link);
  wireAuth(app, link);
  app.addHook('onReady', async () => {
    wireServers(app, link);
    wireGateway(app, link);
    link.start();
  });
  app.addHook('onClose', async () => link.stop());
  app.events.beforeClose(() => link.flushOnShutdown());
}, { name: 'backend', dependencies: ['config', 'events'] });
