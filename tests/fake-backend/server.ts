// A fake DeployStack backend: a real HTTP server on 127.0.0.1 implementing the routes the
// satellite calls (reference §3.2), recording what it receives, with failure injection.
import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export type Route = 'health' | 'register' | 'heartbeat' | 'commands' | 'command-result' | 'config' | 'events' | 'introspect' | 'tokens-retrieve' | 'tokens-status';

/** How a route misbehaves: an HTTP status, a 200 with a non-JSON body, or a delay before answering. */
export type Failure = { status: number; retryAfter?: string; body?: unknown } | { garbage: true } | { delayMs: number };

export interface FakeCommand {
  id: string;
  command_type: string;
  priority?: string;
  payload: Record<string, unknown>;
  correlation_id?: string;
}

export interface Recorded {
  method: string;
  path: string;
  auth?: string;
  body: any;
  at: number;
}

export interface FakeBackendOptions {
  /** Registration tokens the backend accepts (single use). */
  registrationTokens?: string[];
  port?: number;
}

export class FakeBackend {
  readonly requests: Recorded[] = [];
  readonly heartbeats: any[] = [];
  readonly results: any[] = [];
  /** Events the backend accepted, in arrival order. */
  readonly events: { type: string; timestamp: string; data: any }[] = [];
  readonly eventPosts: { status: number; count: number }[] = [];
  readonly registrations: any[] = [];
  satelliteId = randomUUID();
  apiKey: string | undefined;
  config: unknown = { mcp_servers: {} };
  nextPollInterval: number | undefined = 60;
  /** Event types answered with a 400 for the whole batch (as Fastify schema validation would). */
  rejectEventTypes = new Set<string>();
  /** Event types reported as per-event failures inside a 200. */
  failEventTypes = new Set<string>();
  introspection = new Map<string, Record<string, unknown>>();
  upstreamTokens = new Map<string, Record<string, unknown>>();
  readonly #pending: FakeCommand[] = [];
  readonly #tokens: Set<string>;
  readonly #used = new Set<string>();
  readonly #failures = new Map<Route, { failure: Failure; times: number }>();
  readonly #sockets = new Set<Socket>();
  #server: Server | undefined;
  #port: number;

  constructor(opts: FakeBackendOptions = {}) {
    this.#tokens = new Set(opts.registrationTokens ?? []);
    this.#port = opts.port ?? 0;
  }

  get url(): string {
    return `http://127.0.0.1:${this.#port}`;
  }

  get up(): boolean {
    return this.#server !== undefined;
  }

  async start(): Promise<string> {
    const server = createServer((req, res) => void this.#handle(req, res));
    server.on('connection', (s) => {
      this.#sockets.add(s);
      s.on('close', () => this.#sockets.delete(s));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.#port, '127.0.0.1', () => resolve());
    });
    this.#port = (server.address() as AddressInfo).port;
    this.#server = server;
    return this.url;
  }

  /** Goes down: connections are refused until `start()` again (same port). */
  async stop(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    if (!server) return;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeIdleConnections();
    // Let answers already being written reach the client, then cut whatever is left.
    await new Promise((r) => setTimeout(r, 50));
    for (const s of this.#sockets) s.destroy();
    await closed;
  }

  addRegistrationToken(token: string): void {
    this.#tokens.add(token);
  }

  /** Invalidates the satellite's API key (the backend forgot or rotated it). */
  revokeKey(): void {
    this.apiKey = undefined;
  }

  queueCommand(cmd: Partial<FakeCommand> & { command_type: string }): FakeCommand {
    const full: FakeCommand = { id: randomUUID(), priority: 'immediate', payload: {}, ...cmd };
    this.#pending.push(full);
    return full;
  }

  get pendingCommands(): readonly FakeCommand[] {
    return this.#pending;
  }

  /** Makes `route` misbehave for the next `times` requests (Infinity until cleared). */
  fail(route: Route, failure: Failure, times = Infinity): void {
    this.#failures.set(route, { failure, times });
  }

  clearFailure(route?: Route): void {
    if (route) this.#failures.delete(route);
    else this.#failures.clear();
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://x');
    const text = await readBody(req);
    let body: any;
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch {
      return send(res, 400, { success: false, error: 'Bad Request', message: 'body is not JSON' });
    }
    const auth = req.headers.authorization;
    this.requests.push({ method: req.method ?? 'GET', path: url.pathname, auth, body, at: Date.now() });
    const route = this.#route(req.method ?? 'GET', url.pathname);
    if (!route) return send(res, 404, { success: false, error: 'Not Found' });
    // What the config was when the request arrived, even if it is answered late (slow mode).
    const config = this.config;
    const f = this.#failures.get(route.name);
    if (f && f.times > 0) {
      f.times--;
      const failure = f.failure;
      if ('delayMs' in failure) await new Promise((r) => setTimeout(r, failure.delayMs));
      else if ('garbage' in failure) return sendRaw(res, 200, '<html>definitely not json');
      else {
        if (failure.retryAfter) res.setHeader('retry-after', failure.retryAfter);
        if (route.name === 'events') this.eventPosts.push({ status: failure.status, count: body?.events?.length ?? 0 });
        return send(res, failure.status, failure.body ?? { success: false, error: `injected ${failure.status}` });
      }
    }
    if (route.name === 'health') return send(res, 200, { status: 'ok' });
    if (route.name === 'register') return this.#register(auth, body, res);
    if (route.name === 'introspect') {
      if (!this.#authorized(auth)) return send(res, 401, { success: false, error: 'Unauthorized' });
      return send(res, 200, this.introspection.get(body?.token) ?? { active: false });
    }
    if (route.id !== this.satelliteId) return send(res, 404, { success: false, error: 'Satellite not found' });
    if (!this.#authorized(auth)) return send(res, 401, { success: false, error: 'Unauthorized' });
    switch (route.name) {
      case 'heartbeat':
        this.heartbeats.push(body);
        return send(res, 200, { success: true, message: 'Heartbeat received' });
      case 'commands':
        return send(res, 200, {
          commands: this.#pending.slice(0, Number(url.searchParams.get('limit') ?? 10)),
          polling_mode: this.#pending.length > 0 ? 'immediate' : 'normal',
          ...(this.nextPollInterval !== undefined ? { next_poll_interval: this.nextPollInterval } : {})
        });
      case 'command-result': {
        const allowed = new Set(['command_id', 'status', 'result', 'error_message']);
        if (!body || typeof body.command_id !== 'string' || Object.keys(body).some((k) => !allowed.has(k))) {
          return send(res, 400, { success: false, error: 'Bad Request' });
        }
        const i = this.#pending.findIndex((c) => c.id === body.command_id);
        if (i < 0) return send(res, 404, { success: false, error: 'Command not found' });
        this.results.push(body);
        if (body.status === 'completed' || body.status === 'failed') this.#pending.splice(i, 1);
        return send(res, 200, { success: true, message: 'Result recorded' });
      }
      case 'config':
        return send(res, 200, config);
      case 'events':
        return this.#events(body, res);
      case 'tokens-retrieve': {
        const t = this.upstreamTokens.get(`${body?.installation_id}:${body?.user_id}:${body?.team_id}`);
        return t ? send(res, 200, t) : send(res, 404, { error: 'No token' });
      }
      case 'tokens-status': {
        const t = this.upstreamTokens.get(`${body?.installation_id}:${body?.user_id}:${body?.team_id}`);
        return send(res, 200, { exists: !!t, expired: t ? false : null, expires_at: null, can_refresh: false });
      }
      default:
        return send(res, 404, { success: false });
    }
  }

  #events(body: any, res: ServerResponse): void {
    const list = body?.events;
    if (!Array.isArray(list) || list.length < 1 || list.length > 100 || list.some((e: any) => typeof e?.type !== 'string' || typeof e?.timestamp !== 'string' || typeof e?.data !== 'object')) {
      this.eventPosts.push({ status: 400, count: Array.isArray(list) ? list.length : 0 });
      return send(res, 400, { statusCode: 400, error: 'Bad Request', message: 'body/events must be a valid event list' });
    }
    if (list.some((e: any) => this.rejectEventTypes.has(e.type))) {
      this.eventPosts.push({ status: 400, count: list.length });
      return send(res, 400, { statusCode: 400, error: 'Bad Request', message: 'body/events/0/data must have required property' });
    }
    const failures: { index: number; type: string; error: string }[] = [];
    const ids: string[] = [];
    list.forEach((e: any, index: number) => {
      if (this.failEventTypes.has(e.type)) failures.push({ index, type: e.type, error: 'Unknown event type' });
      else {
        this.events.push(e);
        ids.push(randomUUID());
      }
    });
    this.eventPosts.push({ status: 200, count: list.length });
    send(res, 200, { success: failures.length === 0, processed: ids.length, failed: failures.length, event_ids: ids, ...(failures.length ? { failures } : {}) });
  }

  #register(auth: string | undefined, body: any, res: ServerResponse): void {
    const token = auth?.match(/^Bearer (deploystack_satellite_(?:global|team)_.+)$/)?.[1];
    if (!token) return send(res, 401, { success: false, error: 'registration_token_required', message: 'Registration token required' });
    if (this.#used.has(token)) return send(res, 401, { success: false, error: 'token_already_used', message: 'Registration token already used' });
    if (!this.#tokens.has(token)) return send(res, 401, { success: false, error: 'invalid_registration_token', message: 'Invalid registration token' });
    if (typeof body?.name !== 'string' || !/^[a-z0-9_-]{10,32}$/.test(body.name)) return send(res, 400, { success: false, error: 'Bad Request' });
    this.#used.add(token);
    this.registrations.push(body);
    this.apiKey = `deploystack_satellite_api_global_${randomBytes(16).toString('hex')}`;
    send(res, 200, { success: true, satellite: { id: this.satelliteId, name: body.name, satellite_type: 'global', team_id: null, status: 'inactive', api_key: this.apiKey }, message: 'Satellite registered' });
  }

  #authorized(auth: string | undefined): boolean {
    return this.apiKey !== undefined && auth === `Bearer ${this.apiKey}`;
  }

  #route(method: string, path: string): { name: Route; id?: string } | undefined {
    if (method === 'GET' && path === '/api/health') return { name: 'health' };
    if (method === 'POST' && path === '/api/satellites/register') return { name: 'register' };
    if (method === 'POST' && path === '/api/oauth2/introspect') return { name: 'introspect' };
    const m = path.match(/^\/api\/satellites\/([^/]+)\/(heartbeat|commands|command-result|config|events|tokens\/retrieve|tokens\/status)$/);
    if (!m) return undefined;
    const name = m[2]!.replace('/', '-') as Route;
    const get = name === 'commands' || name === 'config';
    if ((method === 'GET') !== get) return undefined;
    return { name, id: decodeURIComponent(m[1]!) };
  }
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function send(res: ServerResponse, status: number, body: unknown): void {
  sendRaw(res, status, JSON.stringify(body), 'application/json');
}

function sendRaw(res: ServerResponse, status: number, text: string, type = 'text/html'): void {
  if (res.destroyed) return;
  res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(text) });
  res.end(text);
}
