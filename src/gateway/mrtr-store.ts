// Parked multi-round-trip calls, waiting for the client's retry: bounded in count and time,
// found only by an unguessable token and only by the identity and request that created them.
import { randomBytes } from 'node:crypto';
import type { ClientIdentity } from '../mcp/session-contract';
import type { BridgedCall } from './mrtr-call';

export interface MrtrStoreOptions {
  /** Calls parked at once (all teams); the oldest is dropped beyond it. */
  maxParked: number;
  /** Calls one team may have parked; beyond it that team's oldest is dropped, never another team's. */
  maxParkedPerTeam: number;
  /** How long a parked call waits for the retry. */
  ttlMs: number;
}

interface Parked {
  call: BridgedCall;
  /** Who and what the token is bound to. */
  binding: string;
  timer: NodeJS.Timeout;
}

export function bindingOf(identity: ClientIdentity, target: string, method: string, name: string | undefined): string {
  return JSON.stringify([identity.teamId, identity.userId ?? '', identity.clientId ?? '', target, method, name ?? '']);
}

export class MrtrStore {
  readonly #parked = new Map<string, Parked>();

  constructor(private readonly o: MrtrStoreOptions) {}

  get size(): number {
    return this.#parked.size;
  }

  park(call: BridgedCall, binding: string): string {
    const team = call.identity.teamId;
    const ours = [...this.#parked].filter(([, p]) => p.call.identity.teamId === team).map(([t]) => t);
    for (let i = 0; i <= ours.length - this.o.maxParkedPerTeam; i++) this.#drop(ours[i]!, 'too many calls of this team waiting for input');
    while (this.#parked.size >= this.o.maxParked) {
      const oldest = this.#parked.keys().next().value as string;
      this.#drop(oldest, 'too many calls waiting for input');
    }
    const token = randomBytes(24).toString('base64url');
    const timer = setTimeout(() => this.#drop(token, 'the client did not retry in time'), this.o.ttlMs);
    timer.unref();
    this.#parked.set(token, { call, binding, timer });
    return token;
  }

  /** The parked call for a retry, removed from the store; undefined when unknown, expired or bound elsewhere. */
  take(token: string, binding: string): BridgedCall | undefined {
    const p = this.#parked.get(token);
    if (p === undefined || p.binding !== binding) return undefined;
    this.#parked.delete(token);
    clearTimeout(p.timer);
    return p.call;
  }

  closeAll(reason: string): void {
    for (const token of [...this.#parked.keys()]) this.#drop(token, reason);
  }

  #drop(token: string, reason: string): void {
    const p = this.#parked.get(token);
    if (p === undefined) return;
    this.#parked.delete(token);
    clearTimeout(p.timer);
    p.call.abort(reason);
  }
}
