import { createHash, timingSafeEqual } from 'node:crypto';
import type { TokenGrant } from '../config/standalone';

export const sha256 = (value: string): Buffer => createHash('sha256').update(value, 'utf8').digest();

interface Entry {
  digest: Buffer;
  grant: TokenGrant;
}

/** The standalone config's tokens, held only as SHA-256 digests and compared in constant time. */
export class StaticTokens {
  readonly #entries: Entry[] = [];
  readonly invalidKeys: string[] = [];

  constructor(tokens: Record<string, TokenGrant>) {
    for (const [key, grant] of Object.entries(tokens)) {
      if (key.startsWith('sha256:')) {
        const hex = key.slice(7).toLowerCase();
        if (!/^[0-9a-f]{64}$/.test(hex)) {
          this.invalidKeys.push(key);
          continue;
        }
        this.#entries.push({ digest: Buffer.from(hex, 'hex'), grant });
      } else {
        this.#entries.push({ digest: sha256(key), grant });
      }
    }
  }

  get size(): number {
    return this.#entries.length;
  }

  /** Visits every entry whatever matches, so timing tells nothing about which one did. */
  lookup(token: string): TokenGrant | undefined {
    const digest = sha256(token);
    let found: TokenGrant | undefined;
    for (const e of this.#entries) {
      if (timingSafeEqual(e.digest, digest) && found === undefined) found = e.grant;
    }
    return found;
  }
}
