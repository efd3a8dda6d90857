import fp from 'fastify-plugin';
import type { FastifyInstance } from 'fastify';

/** Returns a reason when not ready, nothing when ready; may throw (counts as not ready). */
export type ReadinessCheck = () => Promise<string | undefined> | string | undefined;

export interface ReadinessResult {
  ready: boolean;
  checks: Array<{ name: string; ok: boolean; reason?: string }>;
}


/** Named readiness conditions other components add (the backend link adds `backend`). */
export class Readiness {
  readonly #checks = new Map<string, ReadinessCheck>();

  constructor(private readonly checkTimeoutMs = 2_000) {}

  add(name: string, check: ReadinessCheck): void {
    this.#checks.set(name, check);
  }

  has(name: string): boolean {
    return this.#checks.has(name);
  }

  async evaluate(): Promise<ReadinessResult> {
    const checks = await Promise.all([...this.#checks].map(async ([name, check]) => {
      const reason = await runBounded(check, this.checkTimeoutMs);
      return reason === undefined ? { name, ok: true } : { name, ok: false, reason };
    }));
    return { ready: checks.every((c) => c.ok), checks };
  }
}

async function runBounded(check: ReadinessCheck, timeoutMs: number): Promise<string | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<string>((resolve) => (timer = setTimeout(() => resolve(`check did not answer within ${timeoutMs} ms`), timeoutMs)));
  try {
    return await Promise.race([Promise.resolve().then(check), timeout]);
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Backend mode: ready once the link is connected (registered, config fetched) and the latest
 * heartbeat did not fail. Reasons stay generic: /ready is unauthenticated, so no addresses or
 * backend error texts.
 */
function backendCheck(app: FastifyInstance): ReadinessCheck {
  return () => {
    const link = app.hasDecorator('backend') ? app.backend : null;
    if (!link) return 'backend link not running';
    if (link.state !== 'connected') return `backend link ${link.state}: not registered or not reachable yet`;
    const heartbeat = app.hasDecorator('jobs') ? app.jobs.list().find((j) => j.name === 'backend-heartbeat') : undefined;
    if (heartbeat?.lastError !== undefined) return 'the last heartbeat to the backend failed';
    return undefined;
  };
}

declare module 'fastify' {
  interface FastifyInstance {
    readiness: Readiness;
  }
}

// The config check is always present; in backend mode the daemon is not ready until the backend
// link registers a `backend` check that passes (a missing link is a reason in itself).
export default fp(async (app: FastifyInstance, opts: { checkTimeoutMs?: number }) => {
  const readiness = new Readiness(opts.checkTimeoutMs);
  readiness.add('config', () => (app.configStore.current ? undefined : 'configuration not loaded'));
  app.decorate('readiness', readiness);
  app.addHook('onReady', async () => {
    if (app.satellite.env.backend.url && !readiness.has('backend')) readiness.add('backend', backendCheck(app));
  });
}, { name: 'readiness', dependencies: ['config'] });
