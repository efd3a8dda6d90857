import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { CommandResult } from './client';

export interface LedgerEntry {
  id: string;
  state: 'running' | 'done';
  result?: CommandResult;
  /** The backend has the result; nothing left to do for this id. */
  reported: boolean;
  at: string;
}

/**
 * Remembers the commands this satellite executed (bounded, persisted) so a re-delivered command
 * is never run twice and a result that failed to post is re-posted without re-running.
 */
export class CommandLedger {
  #entries = new Map<string, LedgerEntry>();

  constructor(private readonly file: string, private readonly capacity = 1_000) {
    try {
      const list = (JSON.parse(readFileSync(file, 'utf8')) as { commands?: LedgerEntry[] }).commands ?? [];
      for (const e of list) {
        if (typeof e?.id !== 'string') continue;
        if (e.state === 'running') {
          // We died while running it: report it failed rather than run it a second time.
          e.state = 'done';
          e.reported = false;
          e.result = { command_id: e.id, status: 'failed', error_message: 'interrupted by a satellite restart' };
        }
        this.#entries.set(e.id, e);
      }
    } catch {
      // no ledger yet
    }
  }

  get(id: string): LedgerEntry | undefined {
    return this.#entries.get(id);
  }

  start(id: string): void {
    this.#entries.set(id, { id, state: 'running', reported: false, at: new Date().toISOString() });
    this.#save();
  }

  finish(result: CommandResult): void {
    this.#entries.set(result.command_id, { id: result.command_id, state: 'done', result, reported: false, at: new Date().toISOString() });
    this.#save();
  }

  markReported(id: string): void {
    const e = this.#entries.get(id);
    if (!e || e.reported) return;
    e.reported = true;
    this.#save();
  }

  unreported(): CommandResult[] {
    return [...this.#entries.values()].filter((e) => e.state === 'done' && !e.reported && e.result).map((e) => e.result!);
  }

  #save(): void {
    // Oldest first out, but never forget a result the backend has not received yet.
    while (this.#entries.size > this.capacity) {
      const victim = [...this.#entries.values()].find((e) => e.reported) ?? this.#entries.values().next().value;
      if (!victim) break;
      this.#entries.delete(victim.id);
    }
    mkdirSync(dirname(this.file), { recursive: true, mode: 0o700 });
    const tmp = `${this.file}.tmp`;
    writeFileSync(tmp, JSON.stringify({ commands: [...this.#entries.values()] }), { mode: 0o600 });
    renameSync(tmp, this.file);
  }
}
