import fp from 'fastify-plugin';
import type { FastifyInstance } from 'fastify';
import { ConfigStore } from '../config/config-store';
import type { SatelliteConfig } from '../config/satellite-config';

declare module 'fastify' {
  interface FastifyInstance {
    satellite: SatelliteConfig;
    configStore: ConfigStore;
  }
}

export default fp(async (app: FastifyInstance, opts: { config: SatelliteConfig }) => {
  app.decorate('satellite', opts.config);
  app.decorate('configStore', new ConfigStore(opts.config.standalone));
}, { name: 'config' });
