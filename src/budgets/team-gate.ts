// Per-team admission of calls towards the team's servers: a slot per call in flight, a short
// bounded queue when the team is saturated, then a clear refusal. Teams never share slots, so
// a team that floods its own servers only ever waits on itself.
import { JsonRpcError } from '../mcp/jsonrpc';

/** JSON-RPC error code (implementation-defined -32000 range) of a call refused by a team budget. */
export const BUDGET_EXHAUSTED = -32010;

export interface CallLimits {
  /** Calls in flight per team towards its servers; 0 = unlimited. */
  maxConcurrent: number;
  /** Calls waiting for a slot; beyond this a call is refused at once. */
  maxQueued: number;
  /** Longest a queued call waits for a slot (ms). */
  queueWaitMs: number;
}

interface Waiter {
  grant(): void;
}

export class TeamGate {
  readonly #active = new Map<string, number>();
  readonly #queues = new Map<string, Waiter[]>();
  refused = 0;

  /** `onRefuse`: told of every refusal (metrics). */
  constructor(private readonly limits: (teamId: string) => CallLimits, private readonly onRefuse?: (teamId: string) => void) {}

  /** Teams with calls in flight or queued now. */
  busyTeams(): string[] {
    return [...new Set([...this.#active.keys(), ...this.#queues.keys()])];
  }

  inFlight(teamId: string): number {
    return this.#active.get(teamId) ?? 0;
  }

  queued(teamId: string): number {
    return this.#queues.get(teamId)?.length ?? 0;
  }

  /** Resolves with a release function once the team has a free slot; rejects with BUDGET_EXHAUSTED or the signal's reason. */
  acquire(teamId: string, teamLabel: string, signal?: AbortSignal): Promise<() => void> {
    const limits = this.limits(teamId);
    if (limits.maxConcurrent <= 0) return Promise.resolve(() => undefined);
    if (this.inFlight(teamId) < limits.maxConcurrent) {
      this.#active.set(teamId, this.inFlight(teamId) + 1);
      return Promise.resolve(this.#releaser(teamId));
    }
    const queue = this.#queues.get(teamId) ?? [];
    if (queue.length >= limits.maxQueued) return Promise.reject(this.#refuse(teamId, teamLabel, limits, 'its queue is full'));
    return new Promise((resolve, reject) => {
      const leave = (err: unknown): void => {
        const i = queue.indexOf(waiter);
        if (i >= 0) queue.splice(i, 1);
        if (queue.length === 0) this.#queues.delete(teamId);
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        reject(err);
      };
      const onAbort = (): void => leave(signal?.reason);
      const timer = setTimeout(() => leave(this.#refuse(teamId, teamLabel, limits, `no slot freed up within ${limits.queueWaitMs} ms`)), limits.queueWaitMs);
      const waiter: Waiter = {
        grant: () => {
          clearTimeout(timer);
          signal?.removeEventListener('abort', onAbort);
          resolve(this.#releaser(teamId));
        }
      };
      if (signal?.aborted) return reject(signal.reason);
      signal?.addEventListener('abort', onAbort, { once: true });
      queue.push(waiter);
      this.#queues.set(teamId, queue);
    });
  }

  #refuse(teamId: string, teamLabel: string, limits: CallLimits, why: string): JsonRpcError {
    this.refused++;
    this.onRefuse?.(teamId);
    return new JsonRpcError(BUDGET_EXHAUSTED,
      `Team '${teamLabel}' has reached its limit of ${limits.maxConcurrent} concurrent calls to its MCP servers and ${why}; try again shortly.`,
      { reason: 'team_concurrency_budget', limit: limits.maxConcurrent });
  }

  /** Hands the slot to the next waiter of the same team, else frees it; idempotent. */
  #releaser(teamId: string): () => void {
    let done = false;
    return () => {
      if (done) return;
      done = true;
      const queue = this.#queues.get(teamId);
      const next = queue?.shift();
      if (queue?.length === 0) this.#queues.delete(teamId);
      if (next) return next.grant();
      const n = this.inFlight(teamId) - 1;
      if (n <= 0) this.#active.delete(teamId);
      else this.#active.set(teamId, n);
    };
  }
}
