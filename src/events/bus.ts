import { randomUUID } from 'node:crypto';
import type { FastifyBaseLogger } from 'fastify';
import type { EventDataMap, EventType, SatelliteEvent } from './types';

export type EventListener<T extends EventType = EventType> = (event: SatelliteEvent<T>) => void;

/** Where emitted events go besides local subscribers (the durable queue in backend mode). */
export interface EventSink {
  readonly lastSeq: number;
  /** Events not yet delivered. */
  readonly size: number;
  push(event: SatelliteEvent): void;
}

/**
 * The in-process event bus: `emit` stamps an event (id, sequence, timestamp), hands it to local
 * subscribers (audit, metrics) and, in backend mode, to the durable queue that ships it.
 */
export class EventBus {
  #seq = 0;
  #sink: EventSink | undefined;
  readonly #byType = new Map<EventType, Set<EventListener<any>>>();
  readonly #any = new Set<EventListener>();
  readonly #beforeClose: (() => Promise<void>)[] = [];

  constructor(private readonly log?: FastifyBaseLogger) {}

  /** Attach the queue before anything emits; sequence numbers continue after the queue's last. */
  attachSink(sink: EventSink): void {
    this.#sink = sink;
    this.#seq = Math.max(this.#seq, sink.lastSeq);
  }

  get sink(): EventSink | undefined {
    return this.#sink;
  }

  /** Work to run at shutdown after every other component has closed (and emitted its last events). */
  beforeClose(fn: () => Promise<void>): void {
    this.#beforeClose.push(fn);
  }

  async runBeforeClose(): Promise<void> {
    for (const fn of this.#beforeClose.splice(0)) {
      try {
        await fn();
      } catch (err) {
        this.log?.error({ err }, 'event shutdown step failed');
      }
    }
  }

  emit<T extends EventType>(type: T, data: EventDataMap[T]): SatelliteEvent<T>;
  /** Types outside the typed map (other components' own events) pass through unchecked. */
  emit(type: string, data: Record<string, unknown>): SatelliteEvent;
  emit(type: string, data: unknown): SatelliteEvent {
    const event = { id: randomUUID(), seq: ++this.#seq, type, timestamp: new Date().toISOString(), data } as SatelliteEvent;
    for (const listener of [...(this.#byType.get(type as EventType) ?? []), ...this.#any]) {
      try {
        listener(event);
      } catch (err) {
        // A broken subscriber must not stop delivery to the others or to the backend.
        this.log?.error({ err, type }, 'event subscriber failed');
      }
    }
    this.#sink?.push(event);
    return event;
  }

  on<T extends EventType>(type: T, listener: EventListener<T>): () => void {
    let set = this.#byType.get(type);
    if (!set) this.#byType.set(type, (set = new Set()));
    set.add(listener);
    return () => set.delete(listener);
  }

  onAny(listener: EventListener): () => void {
    this.#any.add(listener);
    return () => this.#any.delete(listener);
  }
}
