// A hosted server whose calls pass the team's gate first. A Proxy rather than a wrapper class:
// everything else (status, snapshot, pid, members added later, instanceof) is the server's own.
import { JsonRpcError, type JsonObject } from '../mcp/jsonrpc';
import type { ManagedUpstream } from '../servers/managed';
import type { UpstreamCallOptions } from '../servers/upstream';
import type { TeamGate } from './team-gate';

/** Asked before a sleeping process is woken by a call: an error refuses the call. */
export type WakeCheck = (upstream: ManagedUpstream) => JsonRpcError | undefined;

const asleep = (u: ManagedUpstream): boolean => u.config.transport_type === 'stdio' && (u.status === 'dormant' || u.status === 'stopped');

/** Work a client asks for; discovery (lists), pings and subscriptions are not held back. */
const GATED = new Set(['tools/call', 'resources/read', 'prompts/get', 'completion/complete']);

/** The registry's optional extra for memory pressure: sleep now if no call is in flight. */
export interface Sleepable {
  sleepNow?(now: number): boolean;
}

export function budgeted<T extends ManagedUpstream>(inner: T, gate: TeamGate, wakeCheck?: WakeCheck): T {
  const refusal = (): JsonRpcError | undefined => (wakeCheck && asleep(inner) ? wakeCheck(inner) : undefined);
  // Anything that would wake a sleeping process asks first (a list can wake it as well as a call).
  const ensureReady = (): Promise<void> => {
    const refused = refusal();
    return refused ? Promise.reject(refused) : inner.ensureReady();
  };
  const request = async (method: string, params: JsonObject | undefined, options?: UpstreamCallOptions): Promise<JsonObject> => {
    const refused = refusal();
    if (refused) throw refused;
    if (!GATED.has(method)) return inner.request(method, params, options);
    const release = await gate.acquire(inner.teamId, inner.config.team_slug, options?.signal);
    try {
      return await inner.request(method, params, options);
    } finally {
      release();
    }
  };
  return new Proxy(inner, {
    get(target, prop) {
      if (prop === 'request') return request;
      if (prop === 'ensureReady') return ensureReady;
      const value: unknown = Reflect.get(target, prop, target);
      // Methods run on the server itself (its private fields are not on the proxy).
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    }
  });
}
