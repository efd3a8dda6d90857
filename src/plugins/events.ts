import { join } from 'node:path';
import fp from 'fastify-plugin';
import type { FastifyInstance } from 'fastify';
import { ConfigError } from '../config/config-error';
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
    const dir = join(env.dataDir, 'events');
    let queue: DurableEventQueue;
    try {
      queue = new DurableEventQueue({ dir, maxInMemory: env.events.maxQueueSize, log: app.log });
    } catch (err) {
      throw new ConfigError(`Cannot keep the event journal in ${dir} (SATELLITE_DATA_DIR): ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
    bus.attachSink(queue);
    // A full or read-only disk does not stop the satellite; /ready says so until writes succeed.
    app.addHook('onReady', async () => {
      if (app.hasDecorator('readiness')) app.readiness.add('event-journal', () => (queue.writeFailing ? 'cannot write the event journal (disk full or not writable); events are kept in memory only' : undefined));
    });
    // The events plugin is registered early, so this runs after later plugins closed: their last
    // events are in the queue when the backend link flushes it.
    app.addHook('onClose', async () => {
      await bus.runBeforeClose();
      queue.close();
    });
  }
  app.decorate('events', bus);
}, { name: 'events', dependencies: ['config'] });
