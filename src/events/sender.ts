import type { FastifyBaseLogger } from 'fastify';
import type { DurableEventQueue } from './journal';
import { toWire, type WireEvent } from './types';

/** What posting one batch yielded; unreachable backends throw instead. */
export interface BatchResponse {
  status: number;
  body: unknown;
  retryAfterMs?: number;
}

export type BatchPoster = (events: WireEvent[]) => Promise<BatchResponse>;

export interface EventSenderOptions {
  queue: DurableEventQueue;
  post: BatchPoster;
  maxBatchSize: number;
  /** First backoff step after a failure; doubles up to maxBackoffMs. */
  baseBackoffMs: number;
  maxBackoffMs?: number;
  log: FastifyBaseLogger;
  now?: () => number;
}

export type FlushOutcome = 'empty' | 'sent' | 'waiting' | 'failed';

interface Failure {
  index?: unknown;
  type?: unknown;
  error?: unknown;
}

/**
 * Ships the durable queue in order, one POST at a time. Transient failures (unreachable, 5xx,
 * 429, auth) keep the events and back off; a 400 for a whole batch halves the batch until the
 * poison event is alone, then drops it with a log line; per-event `failures` drop only those.
 */
export class EventSender {
  readonly #o: EventSenderOptions;
  readonly #now: () => number;
  #inflight: Promise<FlushOutcome> | undefined;
  #retryAt = 0;
  #backoff = 0;
  #batchSize: number;
  #stats = { delivered: 0, dropped: 0, failedPosts: 0 };

  constructor(opts: EventSenderOptions) {
    this.#o = opts;
    this.#now = opts.now ?? Date.now;
    this.#batchSize = opts.maxBatchSize;
  }

  get stats(): Readonly<{ delivered: number; dropped: number; failedPosts: number }> {
    return this.#stats;
  }

  /** Sends until the queue is empty or a post fails; never two posts at once. */
  flush(opts: { ignoreBackoff?: boolean; maxBatches?: number } = {}): Promise<FlushOutcome> {
    this.#inflight ??= this.#run(opts).finally(() => {
      this.#inflight = undefined;
    });
    return this.#inflight;
  }

  /** Shutdown: keep flushing until empty, a failure, or the deadline; what is left stays on disk. */
  async drain(timeoutMs: number): Promise<FlushOutcome> {
    const deadline = this.#now() + timeoutMs;
    let outcome: FlushOutcome = 'empty';
    while (this.#now() < deadline) {
      const remaining = deadline - this.#now();
      outcome = await Promise.race([
        this.flush({ ignoreBackoff: true, maxBatches: 1 }),
        new Promise<FlushOutcome>((r) => setTimeout(() => r('waiting'), remaining).unref())
      ]);
      if (outcome !== 'sent') break;
    }
    return outcome;
  }

  async #run(opts: { ignoreBackoff?: boolean; maxBatches?: number }): Promise<FlushOutcome> {
    if (!opts.ignoreBackoff && this.#now() < this.#retryAt) return 'waiting';
    let outcome: FlushOutcome = 'empty';
    for (let i = 0; i < (opts.maxBatches ?? 1000); i++) {
      const batch = this.#o.queue.peek(this.#batchSize);
      if (batch.length === 0) return outcome === 'sent' ? 'sent' : 'empty';
      if (!(await this.#sendOne(batch))) return 'failed';
      outcome = 'sent';
    }
    return outcome;
  }

  async #sendOne(batch: ReturnType<DurableEventQueue['peek']>): Promise<boolean> {
    const { queue, log } = this.#o;
    let res: BatchResponse;
    try {
      res = await this.#o.post(batch.map(toWire));
    } catch (err) {
      this.#fail(undefined, `backend unreachable: ${(err as Error).message}`);
      return false;
    }
    if (res.status >= 200 && res.status < 300) {
      const failures = extractFailures(res.body);
      for (const f of failures) {
        const e = typeof f.index === 'number' ? batch[f.index] : undefined;
        log.warn({ event_type: e?.type ?? f.type, event_id: e?.id, error: f.error }, 'backend rejected an event; dropped');
      }
      queue.ack(batch.length);
      this.#stats.delivered += batch.length - failures.length;
      this.#stats.dropped += failures.length;
      this.#backoff = 0;
      this.#retryAt = 0;
      this.#batchSize = Math.min(this.#o.maxBatchSize, this.#batchSize * 2);
      return true;
    }
    if (res.status === 400 || res.status === 413 || res.status === 422) {
      if (batch.length > 1) {
        // Find the poison event by halving; the healthy halves go through meanwhile.
        this.#batchSize = Math.max(1, Math.floor(batch.length / 2));
        log.warn({ status: res.status, batch: batch.length, next: this.#batchSize }, 'backend refused an event batch; splitting it');
        return true;
      }
      const only = batch[0]!;
      log.error({ status: res.status, event_type: only.type, event_id: only.id, response: summarize(res.body) }, 'backend refused an event; dropped');
      queue.ack(1);
      this.#stats.dropped += 1;
      this.#batchSize = Math.min(this.#o.maxBatchSize, this.#batchSize * 2);
      return true;
    }
    this.#fail(res.retryAfterMs, `backend answered ${res.status}`);
    return false;
  }

  #fail(retryAfterMs: number | undefined, reason: string): void {
    this.#stats.failedPosts++;
    const max = this.#o.maxBackoffMs ?? 60_000;
    this.#backoff = this.#backoff === 0 ? this.#o.baseBackoffMs : Math.min(max, this.#backoff * 2);
    const wait = retryAfterMs !== undefined ? Math.min(Math.max(retryAfterMs, 0), 10 * max) : this.#backoff;
    this.#retryAt = this.#now() + wait;
    this.#o.log.warn({ reason, pending: this.#o.queue.size, retry_in_ms: wait }, 'event delivery postponed');
  }
}

function extractFailures(body: unknown): Failure[] {
  if (!body || typeof body !== 'object') return [];
  const f = (body as { failures?: unknown }).failures;
  return Array.isArray(f) ? f.filter((x): x is Failure => !!x && typeof x === 'object') : [];
}

function summarize(body: unknown): unknown {
  if (typeof body === 'string') return body.slice(0, 200);
  return body;
}
