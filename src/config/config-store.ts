import { EventEmitter } from 'node:events';
import type { StandaloneConfig } from './standalone';

export interface ConfigStoreEvents {
  change: [next: StandaloneConfig, previous: StandaloneConfig];
}

/** Holds the current server/team/token configuration; subscribers react to `change`. */
export class ConfigStore extends EventEmitter<ConfigStoreEvents> {
  #current: StandaloneConfig;
  #loadedAt = Date.now();

  constructor(initial: StandaloneConfig) {
    super();
    this.#current = initial;
  }

  get current(): StandaloneConfig {
    return this.#current;
  }

  get loadedAt(): number {
    return this.#loadedAt;
  }

  replace(next: StandaloneConfig): void {
    const previous = this.#current;
    this.#current = next;
    this.#loadedAt = Date.now();
    this.emit('change', next, previous);
  }
}
