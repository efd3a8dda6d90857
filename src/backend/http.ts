// Thin HTTP layer towards the backend: JSON in and out, a timeout on every call, and a clear
// split between "the backend answered" (any status) and "the backend could not be reached".
export interface BackendResponse<T = unknown> {
  status: number;
  ok: boolean;
  /** Parsed JSON, or the raw text when the body was not JSON. */
  body: T;
  retryAfterMs?: number;
}

export class BackendUnreachableError extends Error {
  constructor(message: string, readonly causeCode?: string) {
    super(message);
    this.name = 'BackendUnreachableError';
  }
}

/** A non-2xx answer where the caller needs one to proceed. */
export class BackendHttpError extends Error {
  constructor(readonly status: number, readonly body: unknown, message: string) {
    super(message);
    this.name = 'BackendHttpError';
  }
}

export interface RequestOptions {
  method?: 'GET' | 'POST';
  body?: unknown;
  bearer?: string;
  timeoutMs?: number;
  query?: Record<string, string | number | undefined>;
}

export type BackendFetch = (path: string, opts?: RequestOptions) => Promise<BackendResponse>;

export function createBackendFetch(baseUrl: string, userAgent: string, fetchImpl: typeof fetch = fetch): BackendFetch {
  const base = baseUrl.replace(/\/+$/, '');
  return async (path, opts = {}) => {
    const url = new URL(base + path);
    for (const [k, v] of Object.entries(opts.query ?? {})) if (v !== undefined) url.searchParams.set(k, String(v));
    const headers: Record<string, string> = { accept: 'application/json', 'user-agent': userAgent };
    if (opts.body !== undefined) headers['content-type'] = 'application/json';
    if (opts.bearer) headers.authorization = `Bearer ${opts.bearer}`;
    let res: Response;
    let text: string;
    try {
      res = await fetchImpl(url, {
        method: opts.method ?? (opts.body === undefined ? 'GET' : 'POST'),
        headers,
        body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
        signal: AbortSignal.timeout(opts.timeoutMs ?? 10_000),
        redirect: 'error'
      });
      text = await res.text();
    } catch (err) {
      const e = err as Error & { cause?: { code?: string } };
      const code = e.name === 'TimeoutError' ? 'ETIMEDOUT' : e.cause?.code;
      throw new BackendUnreachableError(`${opts.method ?? 'GET'} ${path}: ${code ?? e.message}`, code);
    }
    let body: unknown = text;
    if (text) {
      try {
        body = JSON.parse(text);
      } catch {
        // leave the raw text: callers treat a non-object body as unusable
      }
    } else body = undefined;
    return { status: res.status, ok: res.ok, body, retryAfterMs: parseRetryAfter(res.headers.get('retry-after')) };
  };
}

export function parseRetryAfter(value: string | null): number | undefined {
  if (!value) return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}

export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
