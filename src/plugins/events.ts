import { join } from 'node:path';
import fp from 'fastify-plugin';
import type { FastifyInstance } from 'fastify';
import { EventBus } from '../events/bus';
import { DurableEventQueue } from '../events/journal';

declare module 'fastify' {
  interface FastifyInstance {
    /** The event bus: `app.events.emit(type, data)`; subscribers via `on`/`onAny`. */
    events: EventBus;
  }
}

/**
 * Decorates `app.events`. In backend mode every event also goes into a durable queue under
 * SATELLITE_DATA_DIR/events (shipped by the backend plugin); standalone, only local subscribers see them.
 */
export default fp(async (app: FastifyInstance) => {
  const { env } = app.satellite;
  const bus = new EventBus(app.log);
  if (env.backend.url) {
    const queue = new DurableEventQueue({ dir: join(env.dataDir, 'events'), maxInMemory: env.events.maxQueueSize, log: app.log });
    bus.attachSink(queue);
    app.addHook('onClose', async () => queue.close());
  }
  app.decorate('events', bus);
}, { name: 'events', dependencies: ['config'] });
