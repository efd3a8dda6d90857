// The resource subscriptions of one upstream, ref-counted across everything that subscribes
// through it (pass-through sessions, team gateway sessions): the server is subscribed while at
// least one holder is left, and subscribed again after it restarts or wakes from dormancy.
import type { Logger } from 'pino';
import type { JsonObject } from '../mcp/jsonrpc';
import type { UpstreamCallOptions } from './upstream';

type Send = (method: string, params: JsonObject, options: UpstreamCallOptions) => Promise<JsonObject>;

export class SubscriptionSet {
  readonly #holders = new Map<string, Set<object>>();
  /** First subscribe of a URI still on its way: later holders wait for it instead of sending another. */
  readonly #pending = new Map<string, Promise<JsonObject>>();

  constructor(private readonly send: Send, private readonly log: Pick<Logger, 'warn'>) {}

  /** True when `method` is a (un)subscribe this set must handle for `options.subscriber`. */
  static handles(method: string, params: JsonObject | undefined, options: UpstreamCallOptions): boolean {
    return options.subscriber !== undefined && typeof params?.uri === 'string' && (method === 'resources/subscribe' || method === 'resources/unsubscribe');
  }

  get uris(): string[] {
    return [...this.#holders.keys()];
  }

  /** Routes a handled request (see `handles`). */
  request(method: string, params: JsonObject, options: UpstreamCallOptions): Promise<JsonObject> {
    const { subscriber, ...rest } = options;
    const uri = params.uri as string;
    return method === 'resources/subscribe' ? this.#subscribe(uri, subscriber!, params, rest) : this.#unsubscribe(uri, subscriber!, params, rest);
  }

  async #subscribe(uri: string, holder: object, params: JsonObject, options: UpstreamCallOptions): Promise<JsonObject> {
    const held = this.#holders.get(uri);
    if (held) {
      held.add(holder);
      return {};
    }
    let first = this.#pending.get(uri);
    const mine = first === undefined;
    if (!first) {
      first = this.send('resources/subscribe', params, options);
      this.#pending.set(uri, first);
    }
    try {
      const result = await first;
      const set = this.#holders.get(uri) ?? new Set<object>();
      set.add(holder);
      this.#holders.set(uri, set);
      return mine ? result : {};
    } finally {
      if (this.#pending.get(uri) === first) this.#pending.delete(uri);
    }
  }

  async #unsubscribe(uri: string, holder: object, params: JsonObject, options: UpstreamCallOptions): Promise<JsonObject> {
    const held = this.#holders.get(uri);
    if (!held?.delete(holder) || held.size > 0) return {};
    this.#holders.delete(uri);
    return this.send('resources/unsubscribe', params, options);
  }

  /** The server came (back) online with none of its subscriptions: renew every URI still held. */
  renew(): void {
    for (const uri of this.#holders.keys()) {
      this.send('resources/subscribe', { uri }, {}).catch((err: Error) => this.log.warn({ uri, error: err.message }, 'could not renew a resource subscription'));
    }
  }
}
