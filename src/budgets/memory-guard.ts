// Keeps each team's server processes under its memory budget: when a team is over, its least
// recently used idle instances go dormant (they respawn on their next call) until it fits.
import type { Logger } from 'pino';
import type { ManagedUpstream } from '../servers/managed';
import type { Sleepable } from './budgeted-upstream';
import { readParents, serverMemoryBytes } from './proc-memory';

export interface MemoryGuardOptions {
  /** Every hosted server (app.servers.all()). */
  servers(): Array<ManagedUpstream & Sleepable>;
  /** The team's memory budget in bytes; 0 = unlimited. */
  budgetBytes(teamId: string): number;
  log: Pick<Logger, 'info' | 'warn'>;
  procDir?: string;
  cgroupRoot?: string;
  now?: () => number;
}

export interface TeamMemory {
  teamId: string;
  usedBytes: number;
  budgetBytes: number;
  /** Instances put to sleep by this check, least recently used first. */
  slept: Array<{ serverSlug: string; userId?: string; rssBytes: number }>;
}

const lastUse = (u: ManagedUpstream): number => Date.parse(u.snapshot().lastActivityAt ?? '') || 0;

export class MemoryGuard {
  constructor(private readonly opts: MemoryGuardOptions) {}

  /**
   * Before a sleeping stdio instance of the team is woken: makes room (least recently used idle
   * ones sleep) and returns the team's figures when it is still over budget.
   */
  overBudget(teamId: string): TeamMemory | undefined {
    if (this.opts.budgetBytes(teamId) <= 0) return undefined;
    const report = this.check(teamId)[0];
    return report && report.usedBytes > report.budgetBytes ? report : undefined;
  }

  /** Samples every team with a budget (or just `onlyTeam`) and sleeps instances of those over it. */
  check(onlyTeam?: string): TeamMemory[] {
    const byTeam = new Map<string, Array<ManagedUpstream & Sleepable>>();
    for (const u of this.opts.servers()) {
      if ((onlyTeam !== undefined && u.teamId !== onlyTeam) || this.opts.budgetBytes(u.teamId) <= 0) continue;
      byTeam.set(u.teamId, [...(byTeam.get(u.teamId) ?? []), u]);
    }
    if (byTeam.size === 0) return [];
    const procDir = this.opts.procDir ?? '/proc';
    const parents = readParents(procDir);
    const out: TeamMemory[] = [];
    for (const [teamId, servers] of byTeam) {
      const rss = new Map<ManagedUpstream, number>();
      for (const u of servers) {
        const snap = u.snapshot();
        if (snap.pid !== undefined) rss.set(u, serverMemoryBytes(snap, parents, procDir, this.opts.cgroupRoot));
      }
      const budgetBytes = this.opts.budgetBytes(teamId);
      const report: TeamMemory = { teamId, usedBytes: [...rss.values()].reduce((a, b) => a + b, 0), budgetBytes, slept: [] };
      out.push(report);
      if (report.usedBytes <= budgetBytes) continue;
      const now = (this.opts.now ?? Date.now)();
      const candidates = [...rss.keys()].filter((u) => u.status === 'online').sort((a, b) => lastUse(a) - lastUse(b));
      for (const u of candidates) {
        if (report.usedBytes <= budgetBytes) break;
        if (!(u as Sleepable).sleepNow?.(now)) continue;
        const bytes = rss.get(u) ?? 0;
        report.usedBytes -= bytes;
        report.slept.push({ serverSlug: u.serverSlug, ...(u.config.user_id !== undefined ? { userId: u.config.user_id } : {}), rssBytes: bytes });
        this.opts.log.info({ team_id: teamId, server_slug: u.serverSlug, user_id: u.config.user_id, rss_mb: Math.round(bytes / 1048576), budget_mb: Math.round(budgetBytes / 1048576) },
          'team over its memory budget: least recently used server put to sleep');
      }
      if (report.usedBytes > budgetBytes) {
        this.opts.log.warn({ team_id: teamId, used_mb: Math.round(report.usedBytes / 1048576), budget_mb: Math.round(budgetBytes / 1048576) }, 'team over its memory budget with no idle server left to put to sleep');
      }
    }
    return out;
  }
}
