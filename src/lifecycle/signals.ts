import fp from 'fastify-plugin';
import type { FastifyInstance } from 'fastify';
import { isListenStream } from '../transports/modern/protocol';

/**
 * How long the close hooks get after the connections are cut: children (stdin close, SIGTERM,
 * then SIGKILL within about 6 s) plus the event flush budget.
 */
const CHILDREN_GRACE_MS = 10_000;

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
    }, timeoutMs + CHILDREN_GRACE_MS + app.satellite.env.events.flushTimeoutMs);
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
 * The drain phase of app.close(). Its preClose hook runs before every later plugin's (hooks run
 * in registration order), so it waits, up to SHUTDOWN_TIMEOUT_MS, for in-flight POST/DELETE
 * requests (tool calls, including those answering over an SSE response) to finish before the
 * transports end sessions and streams. Meanwhile new requests get 503 (return503OnClosing), and
 * every response says `Connection: close` so keep-alive sockets end with their last response
 * instead of holding server.close() until the deadline. Long-lived GET streams are not waited
 * for, nor are 2026-07-28 subscriptions/listen POSTs: the transports end them, once no session has
 * a request in flight (legacy SSE answers travel on them).
 */
/** The session store (transports plugin) as the drain sees it. */
interface SessionsInFlight {
  readonly inFlight: number;
}

/** Sessions announce no completion: their in-flight count is polled this often while draining. */
const SESSION_POLL_MS = 25;

export const drainConnections = fp(async (app: FastifyInstance) => {
  let closing = false;
  const inFlight = new Set<object>();
  let onIdle: (() => void) | undefined;
  app.addHook('onRequest', async (request, reply) => {
    if (request.method === 'GET' || request.method === 'HEAD' || request.method === 'OPTIONS' || isListenStream(request)) return;
    inFlight.add(request);
    // 'close' fires on completion and on a dropped connection alike, hijacked replies included.
    reply.raw.once('close', () => {
      inFlight.delete(request);
      if (inFlight.size === 0) onIdle?.();
    });
  });
  app.addHook('onSend', async (_request, reply) => {
    if (closing) reply.header('connection', 'close');
  });
  app.addHook('preClose', async () => {
    closing = true;
    // Legacy SSE answers travel on the session's stream, not on the POST (202 at once): count the
    // sessions' own in-flight requests too, or ending the streams would cut those answers.
    const sessions = app.hasDecorator('sessions') ? app.getDecorator<SessionsInFlight>('sessions') : undefined;
    const busy = (): number => inFlight.size + (sessions?.inFlight ?? 0);
    if (busy() === 0) return;
    const timeoutMs = app.satellite.env.shutdownTimeoutMs;
    app.log.info({ requests: inFlight.size, session_requests: sessions?.inFlight ?? 0, timeoutMs }, 'waiting for in-flight requests');
    const end = Date.now() + timeoutMs;
    while (busy() > 0 && Date.now() < end) {
      let timer: NodeJS.Timeout | undefined;
      await new Promise<void>((resolve) => {
        onIdle = resolve;
        timer = setTimeout(resolve, Math.min(SESSION_POLL_MS, end - Date.now()));
      });
      clearTimeout(timer);
    }
    onIdle = undefined;
    if (busy() > 0) app.log.warn({ requests: inFlight.size, session_requests: sessions?.inFlight ?? 0 }, 'in-flight requests outlived the shutdown deadline');
  });
}, { name: 'drain-connections', dependencies: ['config'] });
