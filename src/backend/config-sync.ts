import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { FastifyBaseLogger } from 'fastify';
import type { ConfigStore } from '../config/config-store';
import type { StandaloneConfig } from '../config/standalone';
import type { EventBus } from '../events/bus';
import type { BackendClient } from './client';
import { canonicalJson, convertBackendConfig } from './config-convert';

export interface SyncOutcome {
  changed: boolean;
  total_servers: number;
  enabled_servers: number;
  rejected: number;
}

/**
 * Fetches the backend's configuration, applies it to the ConfigStore when it differs, and keeps
 * the last applied one on disk so a restart with the backend down serves what it served before.
 */
export class ConfigSync {
  #inflight: Promise<SyncOutcome> | undefined;
  #followUp: Promise<SyncOutcome> | undefined;

  constructor(
    private readonly client: BackendClient,
    private readonly store: ConfigStore,
    private readonly events: EventBus,
    private readonly log: FastifyBaseLogger,
    private readonly file: string
  ) {}

  /** Applies the configuration persisted by a previous run, if any; returns whether there was one. */
  loadPersisted(): boolean {
    let text: string;
    try {
      text = readFileSync(this.file, 'utf8');
    } catch {
      return false;
    }
    let converted: ReturnType<typeof convertBackendConfig>;
    try {
      converted = convertBackendConfig(JSON.parse(text));
    } catch (err) {
      this.log.error({ file: this.file, error: (err as Error).message }, 'the persisted backend configuration is unreadable; waiting for the backend');
      return false;
    }
    const { config, rejected } = converted;
    if (canonicalJson(config) !== canonicalJson(this.store.current)) this.store.replace(config);
    this.log.info({ servers: Object.keys(config.mcp_servers).length, rejected: rejected.length }, 'serving the last configuration received from the backend');
    return true;
  }

  /**
   * Never two fetches at once. A sync asked for while one runs gets a fresh fetch after it (the
   * running one may predate the change a `configure` command announces); callers asking
   * meanwhile share that single follow-up.
   */
  sync(reason: string): Promise<SyncOutcome> {
    if (this.#inflight) {
      this.#followUp ??= this.#inflight.catch(() => undefined).then(() => {
        this.#followUp = undefined;
        return this.sync(reason);
      });
      return this.#followUp;
    }
    this.#inflight = this.#run(reason).finally(() => {
      this.#inflight = undefined;
    });
    return this.#inflight;
  }

  async #run(reason: string): Promise<SyncOutcome> {
    const payload = await this.client.getConfig();
    const { config, rejected } = convertBackendConfig(payload);
    for (const r of rejected) {
      this.log.warn({ entry: r.key, installation_id: r.installation_id, error: r.error }, 'skipping an invalid server entry from the backend');
      this.events.emit('config.error', { entry_key: r.key, installation_id: r.installation_id, team_id: r.team_id, error_message: r.error });
    }
    const servers = Object.values(config.mcp_servers);
    const outcome = { total_servers: servers.length, enabled_servers: servers.filter((s) => s.enabled !== false).length, rejected: rejected.length };
    if (canonicalJson(config) === canonicalJson(this.store.current)) return { changed: false, ...outcome };
    this.#persist(config);
    this.store.replace(config);
    this.log.info({ reason, ...outcome }, 'configuration from the backend applied');
    return { changed: true, ...outcome };
  }

  #persist(config: StandaloneConfig): void {
    try {
      mkdirSync(dirname(this.file), { recursive: true, mode: 0o700 });
      const tmp = `${this.file}.tmp`;
      // Server env and headers hold secrets: owner-only.
      writeFileSync(tmp, JSON.stringify(config), { mode: 0o600 });
      renameSync(tmp, this.file);
    } catch (err) {
      this.log.error({ err, file: this.file }, 'cannot persist the backend configuration');
    }
  }
}
