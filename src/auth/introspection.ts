import { Agent, request } from 'undici';
import { TokenRejectedError } from './errors';

/** Returns the satellite's current backend API key, or undefined before registration. */
export type ApiKeyProvider = () => string | undefined | Promise<string | undefined>;

/** How to authenticate towards the introspection endpoint. */
export type IntrospectionAuth =
  /** RFC 7662 with client_secret_basic; form-encoded body. */
  | { kind: 'client_secret_basic'; clientId: string; clientSecret: string }
  /** DeployStack backend: the satellite API key as bearer; JSON body {token}. */
  | { kind: 'api_key'; apiKey: ApiKeyProvider };

export interface IntrospectorOptions {
  url: string;
  auth: IntrospectionAuth;
  timeoutMs: number;
  userAgent: string;
}

const UNAVAILABLE_RETRY_SECONDS = 5;

// RFC 6749 §2.3.1: client id and secret are form-encoded before they are joined and base64-encoded.
const formEncode = (s: string): string => encodeURIComponent(s).replace(/%20/g, '+');

/** Calls one introspection endpoint over its own undici Agent (never the global fetch). */
export class Introspector {
  readonly #agent: Agent;
  calls = 0;
  failures = 0;

  constructor(private readonly opts: IntrospectorOptions) {
    this.#agent = new Agent({
      connect: { timeout: opts.timeoutMs },
      headersTimeout: opts.timeoutMs,
      bodyTimeout: opts.timeoutMs,
      keepAliveTimeout: 30_000,
      connections: 32
    });
  }

  /** The endpoint's claims; throws TokenRejectedError('unavailable') when no trustworthy answer came. */
  async introspect(token: string): Promise<Record<string, unknown>> {
    this.calls++;
    const headers: Record<string, string> = { accept: 'application/json', 'user-agent': this.opts.userAgent };
    let body: string;
    const auth = this.opts.auth;
    if (auth.kind === 'client_secret_basic') {
      headers.authorization = `Basic ${Buffer.from(`${formEncode(auth.clientId)}:${formEncode(auth.clientSecret)}`).toString('base64')}`;
      headers['content-type'] = 'application/x-www-form-urlencoded';
      body = new URLSearchParams({ token, token_type_hint: 'access_token' }).toString();
    } else {
      const key = await auth.apiKey();
      if (!key) throw this.#unavailable('the satellite is not registered with its backend yet, so tokens cannot be checked');
      headers.authorization = `Bearer ${key}`;
      headers['content-type'] = 'application/json';
      body = JSON.stringify({ token });
    }
    let status: number;
    let retryAfter: string | string[] | undefined;
    let text: string;
    try {
      const res = await request(this.opts.url, {
        method: 'POST',
        headers,
        body,
        dispatcher: this.#agent,
        signal: AbortSignal.timeout(this.opts.timeoutMs)
      });
      status = res.statusCode;
      retryAfter = res.headers['retry-after'];
      text = await res.body.text();
    } catch (err) {
      const e = err as Error & { code?: string };
      throw this.#unavailable(`the authorization server could not be reached (${e.name === 'TimeoutError' ? 'timeout' : e.code ?? e.message})`);
    }
    if (status !== 200) {
      const hint = status === 401 || status === 403 ? ' (the satellite\'s own introspection credentials were refused)' : '';
      throw this.#unavailable(`the authorization server answered ${status}${hint}`, parseRetryAfter(retryAfter));
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw this.#unavailable('the authorization server answered with a body that is not JSON');
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw this.#unavailable('the authorization server answered with a body that is not a JSON object');
    return parsed as Record<string, unknown>;
  }

  #unavailable(why: string, retryAfter = UNAVAILABLE_RETRY_SECONDS): TokenRejectedError {
    this.failures++;
    return new TokenRejectedError('unavailable', `Token introspection is unavailable: ${why}`, retryAfter);
  }

  close(): Promise<void> {
    return this.#agent.close();
  }
}

function parseRetryAfter(v: string | string[] | undefined): number {
  const n = Number(Array.isArray(v) ? v[0] : v);
  return Number.isInteger(n) && n > 0 && n <= 3600 ? n : UNAVAILABLE_RETRY_SECONDS;
}
