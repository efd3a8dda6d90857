import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export type ToolCallOutcome = 'ok' | 'error' | 'timeout' | 'cancelled';
export type JobRunOutcome = 'success' | 'failure' | 'skipped';

/** Session counts: a total, or counts by transport (streamable_http, sse). */
export type SessionCount = number | Record<string, number>;

/** Read at scrape time so a scrape always sees the present state. */
export interface MetricsProviders {
  sessions?: () => SessionCount;
  eventQueueDepth?: () => number;
  /** The status of every hosted server process (all teams). */
  processStatuses?: () => Iterable<string>;
}

const TOOL_BUCKETS = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];
const HTTP_BUCKETS = [0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/**
 * Every metric of one app, in the app's own Registry (never prom-client's global one, so two
 * apps in one process keep separate counts).
 */
export class SatelliteMetrics {
  readonly registry = new Registry();
  readonly #providers: MetricsProviders = {};
  readonly #httpRequests: Counter<'method' | 'route' | 'status_code'>;
  readonly #httpDuration: Histogram<'method' | 'route'>;
  readonly #toolCalls: Histogram<'team' | 'server' | 'outcome'>;
  readonly #restarts: Counter<'team' | 'server'>;
  readonly #jobRuns: Counter<'job' | 'outcome'>;
  readonly #jobFailures: Counter<'job'>;

  constructor(options: { defaultMetrics?: boolean } = {}) {
    const registers = [this.registry];
    if (options.defaultMetrics !== false) collectDefaultMetrics({ register: this.registry });
    this.#httpRequests = new Counter({ name: 'satellite_http_requests_total', help: 'HTTP requests by route pattern and status', labelNames: ['method', 'route', 'status_code'], registers });
    this.#httpDuration = new Histogram({ name: 'satellite_http_request_duration_seconds', help: 'HTTP response time by route pattern', labelNames: ['method', 'route'], buckets: HTTP_BUCKETS, registers });
    this.#toolCalls = new Histogram({ name: 'satellite_tool_call_duration_seconds', help: 'tools/call latency by team and server', labelNames: ['team', 'server', 'outcome'], buckets: TOOL_BUCKETS, registers });
    this.#restarts = new Counter({ name: 'satellite_process_restarts_total', help: 'server restarts (after a crash, by command or on a config change)', labelNames: ['team', 'server'], registers });
    this.#jobRuns = new Counter({ name: 'satellite_job_runs_total', help: 'background job runs by outcome (skipped: the previous run was still going)', labelNames: ['job', 'outcome'], registers });
    this.#jobFailures = new Counter({ name: 'satellite_job_failures_total', help: 'background job runs that failed or timed out', labelNames: ['job'], registers });
    const providers = this.#providers;
    new Gauge({
      name: 'satellite_sessions',
      help: 'open MCP client sessions by transport',
      labelNames: ['transport'],
      registers,
      collect() {
        this.reset();
        const count = providers.sessions?.();
        if (count === undefined) return;
        if (typeof count === 'number') this.set({ transport: 'all' }, count);
        else for (const [transport, n] of Object.entries(count)) this.set({ transport }, n);
      }
    });
    new Gauge({
      name: 'satellite_processes',
      help: 'hosted MCP server processes by status',
      labelNames: ['status'],
      registers,
      collect() {
        this.reset();
        const statuses = providers.processStatuses?.();
        if (!statuses) return;
        const counts = new Map<string, number>();
        for (const s of statuses) counts.set(s, (counts.get(s) ?? 0) + 1);
        for (const [status, n] of counts) this.set({ status }, n);
      }
    });
    new Gauge({
      name: 'satellite_event_queue_depth',
      help: 'events waiting to be sent to the backend',
      registers,
      collect() {
        const depth = providers.eventQueueDepth?.();
        if (depth === undefined) this.reset();
        else this.set(depth);
      }
    });
  }

  /** Sets (or replaces) the scrape-time readers other components provide. */
  provide(providers: MetricsProviders): void {
    Object.assign(this.#providers, providers);
  }

  hasProvider(name: keyof MetricsProviders): boolean {
    return this.#providers[name] !== undefined;
  }

  observeRequest(method: string, route: string, statusCode: number, seconds: number): void {
    this.#httpRequests.inc({ method, route, status_code: String(statusCode) });
    this.#httpDuration.observe({ method, route }, seconds);
  }

  observeToolCall(teamId: string, serverSlug: string, seconds: number, outcome: ToolCallOutcome): void {
    this.#toolCalls.observe({ team: teamId, server: serverSlug, outcome }, seconds);
  }

  recordRestart(teamId: string, serverSlug: string): void {
    this.#restarts.inc({ team: teamId, server: serverSlug });
  }

  jobRun(job: string, outcome: JobRunOutcome): void {
    this.#jobRuns.inc({ job, outcome });
    if (outcome === 'failure') this.#jobFailures.inc({ job });
  }

  scrape(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
