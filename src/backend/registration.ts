import type { FastifyBaseLogger } from 'fastify';
import { RegistrationRejectedError, type BackendClient } from './client';
import type { CredentialStore, SatelliteCredentials } from './credentials';
import { BackendUnreachableError } from './http';

/**
 * Makes sure the satellite holds an API key the backend accepts: a persisted key is verified
 * with a heartbeat (`verify`), a rejected one (401/403/404) is dropped and the satellite
 * registers again with its registration token. Unreachable backends throw so the caller retries.
 */
export class Registrar {
  #current: SatelliteCredentials | undefined;

  constructor(
    private readonly client: BackendClient,
    private readonly store: CredentialStore,
    private readonly name: string,
    /** Absent when the satellite starts from persisted credentials only. */
    private readonly registrationToken: string | undefined,
    private readonly log: FastifyBaseLogger
  ) {
    this.#current = store.load();
  }

  get credentials(): SatelliteCredentials | undefined {
    return this.#current;
  }

  /** `verify` sends one heartbeat with the persisted key and returns its HTTP status. */
  async ensure(verify: () => Promise<number>): Promise<SatelliteCredentials> {
    if (this.#current) {
      const status = await verify();
      if (status >= 200 && status < 300) {
        this.#current = { ...this.#current, last_verified: new Date().toISOString() };
        try {
          this.store.save(this.#current);
        } catch (err) {
          this.log.warn({ err, file: this.store.path }, 'cannot update the credentials file');
        }
        this.log.info({ satellite_id: this.#current.satellite_id }, 'persisted backend credentials verified');
        return this.#current;
      }
      if (status === 401 || status === 403 || status === 404) {
        this.log.warn({ status, satellite_id: this.#current.satellite_id }, 'backend rejected the persisted API key; registering again');
        this.forget();
      } else {
        throw new BackendUnreachableError(`credential check answered ${status}`);
      }
    }
    return this.#register();
  }

  /** Drops the key (the backend no longer accepts it); the next `ensure` registers. */
  forget(): void {
    this.#current = undefined;
    this.store.clear();
  }

  async #register(): Promise<SatelliteCredentials> {
    if (!this.registrationToken) {
      throw new RegistrationRejectedError('registration_token_missing', 'the persisted API key is no longer accepted and DEPLOYSTACK_REGISTRATION_TOKEN is not set: set a new registration token');
    }
    this.log.info({ name: this.name }, 'registering with the backend');
    const answer = await this.client.register(this.name, this.registrationToken);
    const creds: SatelliteCredentials = {
      api_key: answer.api_key,
      satellite_id: answer.id,
      satellite_name: answer.name,
      registered_at: new Date().toISOString()
    };
    this.#current = creds;
    try {
      this.store.save(creds);
    } catch (err) {
      // Keep working with the key in memory; registering again now would only burn another token.
      this.log.error({ err, file: this.store.path }, 'cannot persist the API key (DEPLOYSTACK_CREDENTIALS_FILE); a restart will need a new registration token');
    }
    this.log.info({ satellite_id: creds.satellite_id, satellite_type: answer.satellite_type, file: this.store.path }, 'registered with the backend; API key saved');
    return creds;
  }
}
