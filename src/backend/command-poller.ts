import type { FastifyBaseLogger } from 'fastify';
import type { BackendClient, BackendCommand, CommandResult } from './client';
import type { CommandExecutor } from './command-executor';
import type { CommandLedger } from './command-ledger';

export interface PollOutcome {
  ok: boolean;
  executed: number;
  /** When the next poll should happen, honouring the backend's hint or the error backoff. */
  nextDelayMs: number;
  /** Why the poll failed (when `ok` is false). */
  error?: string;
}

export interface PollerOptions {
  defaultIntervalMs: number;
  /** Told about every command executed (audit). */
  onExecuted?: (cmd: BackendCommand, result: CommandResult) => void;
  errorBackoffBaseMs?: number;
  errorBackoffMaxMs?: number;
}

/**
 * One poll cycle: re-post results the backend has not acknowledged, fetch commands, run each new
 * one exactly once (ledger), post its result. Cycles never overlap.
 */
export class CommandPoller {
  #inflight: Promise<PollOutcome> | undefined;
  #lastPoll: string | undefined;
  #failures = 0;

  constructor(
    private readonly client: BackendClient,
    private readonly executor: CommandExecutor,
    private readonly ledger: CommandLedger,
    private readonly log: FastifyBaseLogger,
    private readonly opts: PollerOptions
  ) {}

  poll(): Promise<PollOutcome> {
    this.#inflight ??= this.#cycle().finally(() => {
      this.#inflight = undefined;
    });
    return this.#inflight;
  }

  async #cycle(): Promise<PollOutcome> {
    let executed = 0;
    try {
      await this.#reportPending();
      const started = new Date().toISOString();
      const res = await this.client.pollCommands(this.#lastPoll);
      this.#lastPoll = started;
      for (const cmd of res.commands) {
        if (await this.#handle(cmd)) executed++;
      }
      this.#failures = 0;
      const hint = res.next_poll_interval;
      const next = hint !== undefined && hint > 0 ? Math.min(hint, 3600) * 1000 : this.opts.defaultIntervalMs;
      return { ok: true, executed, nextDelayMs: next };
    } catch (err) {
      this.#failures++;
      const base = this.opts.errorBackoffBaseMs ?? 5_000;
      const max = this.opts.errorBackoffMaxMs ?? 300_000;
      const next = Math.min(max, base * 2 ** Math.min(this.#failures - 1, 16));
      this.log.warn({ error: (err as Error).message, retry_in_ms: next }, 'command poll failed');
      return { ok: false, executed, nextDelayMs: next, error: (err as Error).message };
    }
  }

  /** Returns whether the command was executed now (false for a re-delivery). */
  async #handle(cmd: BackendCommand): Promise<boolean> {
    const known = this.ledger.get(cmd.id);
    if (known) {
      // Re-delivered: the backend did not get our result (or a poll raced it). Never re-run.
      this.log.debug({ command_id: cmd.id, command_type: cmd.command_type }, 'command already executed; re-posting its result');
      if (known.result) await this.#post(known.result);
      return false;
    }
    this.log.info({ command_id: cmd.id, command_type: cmd.command_type, priority: cmd.priority }, 'executing backend command');
    this.ledger.start(cmd.id);
    const result = await this.executor.execute(cmd);
    this.ledger.finish(result);
    try {
      this.opts.onExecuted?.(cmd, result);
    } catch (err) {
      this.log.error({ err }, 'command observer failed');
    }
    if (result.status === 'failed') this.log.warn({ command_id: cmd.id, command_type: cmd.command_type, error: result.error_message }, 'backend command failed');
    await this.#post(result);
    return true;
  }

  async #reportPending(): Promise<void> {
    for (const r of this.ledger.unreported()) await this.#post(r);
  }

  /** Throws on failure so the cycle backs off; the ledger keeps the result for the next cycle. */
  async #post(result: CommandResult): Promise<void> {
    const outcome = await this.client.postCommandResult(result);
    if (outcome === 'unknown_command') this.log.warn({ command_id: result.command_id }, 'backend does not know this command any more; result discarded');
    this.ledger.markReported(result.command_id);
  }
}
