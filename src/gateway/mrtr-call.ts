// Multi-round-trip requests (SEP-2322) over a 2025-era backend: the backend's server→client
// requests (sampling, elicitation, roots) become `inputRequests` of an InputRequiredResult, and
// the client's retry with `inputResponses` answers the backend requests still waiting.
import { ErrorCode, JsonRpcError, type JsonObject, type JsonRpcNotification, type JsonRpcRequest } from '../mcp/jsonrpc';
import type { ClientIdentity, McpSessionHandler, RequestContext } from '../mcp/session-contract';
import { CLIENT_CAPABILITY } from './passthrough-client';

/** A backend may name its input request (else the gateway does); stripped before the client sees it. */
export const INPUT_KEY_META = 'io.deploystack/inputKey';

/** How long the handler may keep raising input requests before they are handed out together. */
const GATHER_MS = 25;

export type CallOutcome =
  | { kind: 'complete'; result: JsonObject }
  | { kind: 'error'; error: unknown }
  | { kind: 'input'; inputRequests: JsonObject };

interface Waiting {
  method: string;
  params: JsonObject;
  resolve(r: JsonObject): void;
  reject(e: unknown): void;
}

const SHORT: Readonly<Record<string, string>> = { 'sampling/createMessage': 'sampling', 'elicitation/create': 'elicitation', 'roots/list': 'roots' };

function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Throws -32602 for an `inputResponses` that is not an object of result objects. */
export function validateInputResponses(v: unknown): JsonObject | undefined {
  if (v === undefined) return undefined;
  if (!isObject(v)) throw new JsonRpcError(ErrorCode.InvalidParams, 'Invalid params: inputResponses must be an object');
  for (const [k, r] of Object.entries(v)) {
    if (!isObject(r)) throw new JsonRpcError(ErrorCode.InvalidParams, `Invalid params: inputResponses.${k} must be a result object`);
  }
  return v;
}

/** One client request served by a handler, possibly across several HTTP requests (rounds). */
export class BridgedCall {
  readonly #waiting = new Map<string, Waiting>();
  readonly #ac = new AbortController();
  #outcome: CallOutcome | undefined;
  #wake: (() => void) | undefined;
  #gather: NodeJS.Timeout | undefined;
  #seq = 0;
  #prefilled: JsonObject;
  /** Where related notifications go during the current round. */
  onNotification: (n: JsonRpcNotification) => void = () => undefined;

  constructor(
    readonly handler: McpSessionHandler,
    readonly identity: ClientIdentity,
    /** Capabilities the client declared in `_meta`; input requests for others fail with -32021. */
    private readonly capabilities: JsonObject,
    /** Whether this method may answer with input_required at all. */
    private readonly allowsInput: boolean,
    prefilled: JsonObject | undefined
  ) {
    this.#prefilled = prefilled ?? {};
  }

  get signal(): AbortSignal {
    return this.#ac.signal;
  }

  start(req: JsonRpcRequest): void {
    const ctx: RequestContext = {
      sessionId: '',
      identity: this.identity,
      signal: this.#ac.signal,
      sendNotification: (n) => this.onNotification(n),
      sendRequest: (method, params) => this.#ask(method, params ?? {})
    };
    this.handler.handleRequest(req, ctx).then(
      (result) => this.#finish({ kind: 'complete', result }),
      (error: unknown) => this.#finish({ kind: 'error', error })
    );
  }

  /** Resolves when the call completes or has input requests waiting for the client. */
  next(): Promise<CallOutcome> {
    return new Promise((resolve) => {
      const check = (): boolean => {
        if (this.#outcome !== undefined) {
          resolve(this.#outcome);
          return true;
        }
        if (this.#waiting.size > 0 && this.#gather === undefined) {
          const inputRequests: JsonObject = {};
          for (const [k, w] of this.#waiting) inputRequests[k] = { method: w.method, params: w.params };
          resolve({ kind: 'input', inputRequests });
          return true;
        }
        return false;
      };
      if (!check()) this.#wake = () => { if (check()) this.#wake = undefined; };
    });
  }

  /** The client's answers to waiting requests; unknown keys are ignored, missing ones stay waiting. */
  answer(responses: JsonObject | undefined): void {
    for (const [k, r] of Object.entries(responses ?? {})) {
      const w = this.#waiting.get(k);
      if (w === undefined) continue;
      this.#waiting.delete(k);
      w.resolve(r as JsonObject);
    }
  }

  /** Ends the call: the handler's request is aborted and the handler closed. Idempotent. */
  abort(reason: string): void {
    const err = new JsonRpcError(ErrorCode.ConnectionClosed, reason);
    for (const w of this.#waiting.values()) w.reject(err);
    this.#waiting.clear();
    if (!this.#ac.signal.aborted) this.#ac.abort(err);
    this.#finish({ kind: 'error', error: err });
  }

  #ask(method: string, params: JsonObject): Promise<JsonObject> {
    if (method === 'ping') return Promise.resolve({});
    const cap = CLIENT_CAPABILITY[method];
    if (cap !== undefined && this.capabilities[cap] === undefined) {
      return Promise.reject(new JsonRpcError(ErrorCode.MissingRequiredClientCapability, `Missing required client capability: ${cap}`, { requiredCapabilities: { [cap]: {} } }));
    }
    if (!this.allowsInput || this.#outcome !== undefined) return Promise.reject(new JsonRpcError(ErrorCode.MethodNotFound, `${method} is not available for this request`));
    const meta = isObject(params._meta) ? params._meta : undefined;
    const named = meta?.[INPUT_KEY_META];
    let key = typeof named === 'string' && named !== '' ? named : `${SHORT[method] ?? 'input'}_${++this.#seq}`;
    while (this.#waiting.has(key)) key = `${key}_${++this.#seq}`;
    const clean = { ...params };
    if (meta !== undefined) {
      const { [INPUT_KEY_META]: _k, ...rest } = meta;
      if (Object.keys(rest).length > 0) clean._meta = rest;
      else delete clean._meta;
    }
    // A retry without requestState may carry the answer already (stateless retry).
    const given = this.#prefilled[key];
    if (isObject(given)) {
      delete this.#prefilled[key];
      return Promise.resolve(given);
    }
    return new Promise((resolve, reject) => {
      this.#waiting.set(key, { method, params: clean, resolve, reject });
      // Requests raised together (Promise.all in the backend) go out in one InputRequiredResult.
      clearTimeout(this.#gather);
      this.#gather = setTimeout(() => {
        this.#gather = undefined;
        this.#wake?.();
      }, GATHER_MS);
    });
  }

  #finish(o: CallOutcome): void {
    if (this.#outcome !== undefined) return;
    this.#outcome = o;
    clearTimeout(this.#gather);
    this.#gather = undefined;
    try {
      this.handler.close('request finished');
    } catch {
      // a failing close must not hide the outcome
    }
    this.#wake?.();
  }
}
