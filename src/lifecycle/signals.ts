import fp from 'fastify-plugin';
import type { FastifyInstance } from 'fastify';

/** How long the close hooks (children, event flush, audit) get after the connections are cut. */
const HOOKS_GRACE_MS = 5_000;

/**
 * The shutdown sequence for one app, as a function of the signal (tests call it directly).
 *
 * app.close() runs: preClose hooks (jobs stop, transports end their SSE streams), the server
 * stops accepting and waits for in-flight requests, then onClose hooks in reverse registration
 * order (registry stops children, then events and audit flush). When in-flight requests outlive
 * `timeoutMs` their connections are cut so the close hooks still run; a second signal, or close
 * hooks that hang past a further grace, force exit 1.
 */
export function createShutdown(app: FastifyInstance, timeoutMs: number, onExit: (code: number) => void): (signal: NodeJS.Signals) => void {
  let closing = false;
  let exited = false;
  const exit = (code: number) => {
    if (exited) return;
    exited = true;
    onExit(code);
  };
  return (signal) => {
    if (closing) {
      app.log.warn({ signal }, 'second signal: forcing exit');
      exit(1);
      return;
    }
    closing = true;
    app.log.info({ signal, timeoutMs }, 'shutting down: draining in-flight requests');
    const cut = setTimeout(() => {
      app.log.warn({ timeoutMs }, 'shutdown deadline passed: closing the remaining connections');
      app.server.closeAllConnections();
    }, timeoutMs);
    const force = setTimeout(() => {
      app.log.error('shutdown hooks did not finish: forcing exit');
      exit(1);
    }, timeoutMs + HOOKS_GRACE_MS);
    cut.unref();
    force.unref();
    app.close().then(
      () => {
        clearTimeout(cut);
        clearTimeout(force);
        app.log.info('shutdown complete');
        exit(0);
      },
      (err: unknown) => {
        clearTimeout(cut);
        clearTimeout(force);
        app.log.error({ err }, 'shutdown failed');
        exit(1);
      }
    );
  };
}

/** SIGTERM/SIGINT close the app gracefully; returns a function removing the handlers. */
export function installSignalHandlers(app: FastifyInstance, timeoutMs: number, onExit: (code: number) => void = process.exit): () => void {
  const handler = createShutdown(app, timeoutMs, onExit);
  process.on('SIGTERM', handler);
  process.on('SIGINT', handler);
  return () => {
    process.off('SIGTERM', handler);
    process.off('SIGINT', handler);
  };
}

/**
 * While the app closes, every response says `Connection: close`: a keep-alive client's socket
 * then ends with its last response instead of holding server.close() until the deadline.
 */
export const drainConnections = fp(async (app: FastifyInstance) => {
  let closing = false;
  app.addHook('preClose', async () => {
    closing = true;
  });
  app.addHook('onSend', async (_request, reply) => {
    if (closing) reply.header('connection', 'close');
  });
}, { name: 'drain-connections' });
