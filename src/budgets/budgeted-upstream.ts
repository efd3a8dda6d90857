// A hosted server whose calls pass the team's gate first; everything else goes straight through.
import type { JsonObject } from '../mcp/jsonrpc';
import type { McpServerConfig } from '../config/server-config';
import type { ManagedUpstream, ServerLogLine, ServerSnapshot } from '../servers/managed';
import type { ServerStatus, UpstreamCallOptions, UpstreamListener } from '../servers/upstream';
import type { TeamGate } from './team-gate';

/** Work a client asks for; discovery (lists), pings and subscriptions are not held back. */
const GATED = new Set(['tools/call', 'resources/read', 'prompts/get', 'completion/complete']);

/** The registry's optional extra for memory pressure: sleep now if no call is in flight. */
export interface Sleepable {
  sleepNow?(now: number): boolean;
}

export class BudgetedUpstream implements ManagedUpstream, Sleepable {
  readonly logs?: () => ServerLogLine[];

  constructor(readonly inner: ManagedUpstream & Sleepable, private readonly gate: TeamGate) {
    if (inner.logs) this.logs = () => inner.logs!();
  }

  get teamId(): string {
    return this.inner.teamId;
  }

  get serverSlug(): string {
    return this.inner.serverSlug;
  }

  get config(): McpServerConfig {
    return this.inner.config;
  }

  get status(): ServerStatus {
    return this.inner.status;
  }

  get initializeResult(): JsonObject | undefined {
    return this.inner.initializeResult;
  }

  ensureReady(): Promise<void> {
    return this.inner.ensureReady();
  }

  async request(method: string, params: JsonObject | undefined, options?: UpstreamCallOptions): Promise<JsonObject> {
    if (!GATED.has(method)) return this.inner.request(method, params, options);
    const release = await this.gate.acquire(this.teamId, this.config.team_slug, options?.signal);
    try {
      return await this.inner.request(method, params, options);
    } finally {
      release();
    }
  }

  notify(method: string, params?: JsonObject): void {
    this.inner.notify(method, params);
  }

  addListener(listener: UpstreamListener): () => void {
    return this.inner.addListener(listener);
  }

  start(): Promise<void> {
    return this.inner.start();
  }

  restart(): Promise<void> {
    return this.inner.restart();
  }

  stop(): Promise<void> {
    return this.inner.stop();
  }

  close(): Promise<void> {
    return this.inner.close();
  }

  checkDormancy(now: number): boolean {
    return this.inner.checkDormancy(now);
  }

  sleepNow(now: number): boolean {
    return this.inner.sleepNow?.(now) ?? false;
  }

  snapshot(): ServerSnapshot {
    return this.inner.snapshot();
  }
}
