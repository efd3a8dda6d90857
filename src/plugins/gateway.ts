import fp from 'fastify-plugin';
import type { FastifyInstance } from 'fastify';
import type { StandaloneConfig } from '../config/standalone';
import { changedTeams } from '../gateway/config-diff';
import { TeamGateway } from '../gateway/team-gateway';

declare module 'fastify' {
  interface FastifyInstance {
    /** The team endpoint's SessionHandlerFactory; also setToolDisabled() and toolCounts() for commands and status. */
    teamGateway: TeamGateway;
  }
}

/** Decorates `app.teamGateway` over `app.servers`; teams whose config changed get list_changed once it is applied. */
export default fp(async (app: FastifyInstance) => {
  const store = app.configStore;
  const gateway = new TeamGateway({
    servers: app.servers,
    log: app.log.child({ component: 'gateway' }),
    metaTools: (teamId) => store.current.teams[teamId]?.meta_tools === true
  });
  app.decorate('teamGateway', gateway);
  const onChange = (next: StandaloneConfig, previous: StandaloneConfig): void => {
    const teams = changedTeams(next, previous);
    if (teams.size === 0) return;
    void app.servers.settled().then(() => gateway.configChanged(teams));
  };
  store.on('change', onChange);
  // Servers that change their lists without list_changed are caught by a periodic re-list.
  if (app.hasDecorator('jobs') && !app.jobs.has('tool-cache-refresh')) {
    const everyMs = app.satellite.env.process.toolCacheRefreshSeconds * 1000;
    app.jobs.register({
      name: 'tool-cache-refresh',
      schedule: { everyMs },
      timeoutMs: Math.max(1000, Math.min(everyMs, 120_000)),
      run: async (signal) => {
        await gateway.refreshCatalogs(signal);
      }
    });
  }
  app.addHook('onClose', async () => {
    store.off('change', onChange);
    gateway.close();
  });
}, { name: 'gateway', dependencies: ['config', 'servers'] });
