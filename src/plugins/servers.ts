import fp from 'fastify-plugin';
import { scheduleMemoryChecks } from '../budgets/schedule';
import { TeamBudgets } from '../budgets/team-budgets';
import { UpstreamTokenCache, type RetrieveUpstreamToken } from '../servers/remote/oauth-tokens';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { createSandboxDriver } from '../sandbox/factory';
import type { SandboxDriver } from '../sandbox/types';
import { bridgeServerEvents, type EmitEvent } from '../servers/event-bridge';
import type { ManagedUpstream, UpstreamFactory } from '../servers/managed';
import { ServerRegistry } from '../servers/registry';
import { remoteUpstreamFactory } from '../servers/remote';
import { stdioRuntimeOptions, type StdioRuntimeOptions } from '../servers/stdio/options';

declare module 'fastify' {
  interface FastifyInstance {
    servers: ServerRegistry;
    /** Per-team call and memory budgets towards the team's servers (src/budgets/). */
    budgets: TeamBudgets;
  }
}

export interface ServersPluginOptions {
  /** Defaults to the driver SANDBOX names. */
  driver?: SandboxDriver;
  remoteFactory?: UpstreamFactory;
  /** Start enabled servers at boot (default true) so their tools are discoverable. */
  eager?: boolean;
  stdio?: Partial<StdioRuntimeOptions>;
}

/** Upstream OAuth tokens come from the control plane in backend mode; standalone has none. */
function backendTokens(app: FastifyInstance): RetrieveUpstreamToken | undefined {
  const link = app.hasDecorator('backend') ? app.getDecorator<FastifyInstance['backend']>('backend') : null;
  return link ? (ref) => link.client.retrieveUpstreamToken(ref) : undefined;
}

/** Decorates `app.servers` (the ServerRegistry) built from the config store; every child dies on close. */
export default fp(async (app: FastifyInstance, opts: ServersPluginOptions) => {
  const env = app.satellite.env;
  const log = app.log.child({ component: 'servers' }) as unknown as Logger;
  const budgets: TeamBudgets = new TeamBudgets({
    env: env.budgets, config: () => app.configStore.current, servers: () => registry.all(), log,
    ...(app.hasDecorator('metrics') ? { metricsRegistry: app.getDecorator<{ registry: Registry }>('metrics').registry } : {})
  });
  const registry = new ServerRegistry({
    configStore: app.configStore,
    driver: opts.driver ?? createSandboxDriver(env, log),
    log,
    stdio: stdioRuntimeOptions(env, opts.stdio),
    remoteFactory: opts.remoteFactory ?? remoteUpstreamFactory(env.process.requestTimeoutMs),
    eager: opts.eager ?? true,
    wrap: (u): ManagedUpstream => budgets.wrap(u),
    // The backend plugin comes later: the token source is looked up when a token is needed.
    upstreamTokens: new UpstreamTokenCache({ retrieve: () => backendTokens(app) })
  });
  app.decorate('servers', registry);
  app.decorate('budgets', budgets);
  scheduleMemoryChecks(app, budgets, env.budgets.memoryCheckSeconds * 1000);
  // Lifecycle and stderr events reach the backend through the event bus when there is one.
  const unbridge = app.hasDecorator('events')
    ? bridgeServerEvents(registry.events, (type, data) => app.getDecorator<{ emit: EmitEvent }>('events').emit(type, data))
    : undefined;
  // Remote servers that died quietly are noticed between calls, and errored ones brought back.
  if (app.hasDecorator('jobs') && !app.jobs.has('remote-health-probe')) {
    const everyMs = env.process.healthProbeSeconds * 1000;
    const timeoutMs = env.process.healthProbeTimeoutMs;
    app.jobs.register({
      name: 'remote-health-probe',
      schedule: { everyMs },
      timeoutMs: Math.max(everyMs, timeoutMs * 4),
      run: async (signal) => {
        const { failed } = await registry.probeRemotes(timeoutMs, signal);
        if (failed > 0) log.warn({ failed }, 'remote servers failed their health probe');
      }
    });
  }
  // Spawning waits for the server to listen: a slow server must not delay the HTTP port.
  app.addHook('onReady', async () => {
    void registry.start().catch((err: unknown) => log.error({ err }, 'starting servers failed'));
  });
  app.addHook('onClose', async () => {
    await registry.closeAll();
    unbridge?.();
  });
}, { name: 'servers', dependencies: ['config'] });
