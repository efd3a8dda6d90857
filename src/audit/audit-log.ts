import { randomBytes } from 'node:crypto';
import type { FastifyBaseLogger } from 'fastify';
import pino from 'pino';
import { REDACT_PATHS } from '../logging/redaction';
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
 */
export class AuditLog {
  readonly #file: RotatingFile;
  readonly #logger: pino.Logger;
  // Per-process key: argument hashes correlate identical calls within one run, but a guessable
  // argument value cannot be confirmed from the file by hashing candidates.
  readonly #hashKey = randomBytes(32);
  #failures = 0;

  constructor(options: AuditLogOptions, private readonly appLog: FastifyBaseLogger) {
    this.#file = new RotatingFile(options.file, options.maxBytes, options.maxFiles);
    const file = this.#file;
    this.#logger = pino(
      {
        base: undefined,
        messageKey: 'message',
        timestamp: pino.stdTimeFunctions.isoTime,
        // No numeric level: every record is an audit record.
        formatters: { level: () => ({ type: 'audit' }) },
        redact: { paths: REDACT_PATHS, censor: '[Redacted]' }
      },
      { write: (line: string) => file.write(line) }
    );
  }

  get path(): string {
    return this.#file.path;
  }

  record<A extends AuditAction>(action: A, fields: AuditActions[A]): void {
    if (this.#file.closed) {
      this.appLog.warn({ action }, 'audit record after close: dropped');
      return;
    }
    const { arguments: args, ...rest } = fields as Record<string, unknown>;
    const record: Record<string, unknown> = { action, ...sanitizeFields(rest) };
    if (typeof record.session === 'string') record.session = hashId(record.session);
    if (action === 'tool.called') Object.assign(record, describeArguments(args, this.#hashKey));
    try {
      this.#logger.info(record);
    } catch (err) {
      this.#failures++;
      this.appLog.error({ action, error: (err as Error).message, failures: this.#failures }, 'audit write failed');
    }
  }

  close(): void {
    this.#file.close();
  }
}
