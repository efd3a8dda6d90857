import type { FastifyInstance } from 'fastify';

/**
 * SIGTERM/SIGINT close the app gracefully (plugins stop accepting, end streams, stop children,
 * flush events in their onClose/preClose hooks) within the shutdown deadline; a second signal
 * or the deadline forces exit.
 */
export function installSignalHandlers(app: FastifyInstance, timeoutMs: number, onExit: (code: number) => void = process.exit): void {
  let closing = false;
  const handler = (signal: NodeJS.Signals) => {
    if (closing) {
      app.log.warn({ signal }, 'second signal: forcing exit');
      onExit(1);
      return;
    }
    closing = true;
    app.log.info({ signal, timeoutMs }, 'shutting down');
    const force = setTimeout(() => {
      app.log.error('shutdown deadline passed: forcing exit');
      onExit(1);
    }, timeoutMs + 5_000);
    force.unref();
    app.close().then(
      () => {
        app.log.info('shutdown complete');
        onExit(0);
      },
      (err: unknown) => {
        app.log.error({ err }, 'shutdown failed');
        onExit(1);
      }
    );
  };
  process.on('SIGTERM', handler);
  process.on('SIGINT', handler);
}
