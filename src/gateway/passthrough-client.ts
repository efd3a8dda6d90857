// What a session handler remembers of its client: declared capabilities (which server→client
// requests it may get) and the log level it set (which unrelated log messages it wants).
// Shared by the pass-through and the team handler.
import { ErrorCode, JsonRpcError, type JsonObject } from '../mcp/jsonrpc';

export const LOG_LEVELS: readonly string[] = ['debug', 'info', 'notice', 'warning', 'error', 'critical', 'alert', 'emergency'];

/** Server→client requests and the client capability each needs. */
export const CLIENT_CAPABILITY: Readonly<Record<string, string>> = {
  'sampling/createMessage': 'sampling',
  'elicitation/create': 'elicitation',
  'roots/list': 'roots'
};

export class ClientPreferences {
  capabilities: JsonObject = {};
  #logLevel: number | undefined;

  /** Validates a logging/setLevel level; throws -32602 for an unknown one. Returns its rank. */
  static levelRank(level: unknown): number {
    const rank = LOG_LEVELS.indexOf(String(level));
    if (rank < 0) throw new JsonRpcError(ErrorCode.InvalidParams, `Invalid params: unknown log level ${String(level)}`);
    return rank;
  }

  setLogLevel(rank: number): void {
    this.#logLevel = rank;
  }

  wantsLog(level: unknown): boolean {
    return this.#logLevel !== undefined && LOG_LEVELS.indexOf(String(level)) >= this.#logLevel;
  }

  supports(method: string): boolean {
    const cap = CLIENT_CAPABILITY[method];
    return cap === undefined || this.capabilities[cap] !== undefined;
  }
}
