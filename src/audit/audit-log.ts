import { randomBytes } from 'node:crypto';
import type { FastifyBaseLogger } from 'fastify';
import { RotatingFile } from './rotating-file';
import { describeArguments, hashId, sanitizeFields } from './sanitize';
import type { AuditAction, AuditActions } from './types';

export interface AuditLogOptions {
  file: string;
  maxBytes: number;
  maxFiles: number;
}

/**
 * The audit trail: one JSON line per security-relevant action, in its own rotated file, apart
 * from the operational log. record() never throws: a failing disk is reported on the app log.
 * Records are built here with a fixed shape ({type, time, action, ...fields}) from fields that
 * sanitizeFields has already stripped of secret-looking keys and values, so they are serialised
 * directly rather than through a logger's generic redaction.
 */
export class AuditLog {
  readonly #file: RotatingFile;
  // Per-process key: argument hashes correlate identical calls within one run, but a guessable
  // argument value cannot be confirmed from the file by hashing candidates.
  readonly #hashKey = randomBytes(32);
  #failures = 0;

  constructor(options: AuditLogOptions, private readonly appLog: FastifyBaseLogger) {
    this.#file = new RotatingFile(options.file, options.maxBytes, options.maxFiles, {
      onError: (err, lines) => {
        this.#failures++;
        this.appLog.error({ error: err.message, lines, failures: this.#failures }, 'audit write failed');
      }
    });
  }

  get path(): string {
    return this.#file.path;
  }

  record<A extends AuditAction>(action: A, fields: AuditActions[A]): void {
    if (this.#file.closed) {
      this.appLog.warn({ action }, 'audit record after close: dropped');
      return;
    }
    try {
      const { arguments: args, ...rest } = fields as Record<string, unknown>;
      const record: Record<string, unknown> = { type: 'audit', time: new Date().toISOString(), action, ...sanitizeFields(rest) };
      if (typeof record.session === 'string') record.session = hashId(record.session);
      if (action === 'tool.called') Object.assign(record, describeArguments(args, this.#hashKey));
      this.#file.write(`${JSON.stringify(record)}\n`);
    } catch (err) {
      this.#failures++;
      this.appLog.error({ action, error: (err as Error).message, failures: this.#failures }, 'audit write failed');
    }
  }

  /** Writes what is buffered now (the file does so itself at the end of every event-loop turn). */
  flush(): void {
    this.#file.flush();
  }

  close(): void {
    this.#file.close();
  }
}
