import { statfs } from 'node:fs/promises';
import { cpus, freemem, loadavg, totalmem } from 'node:os';

export interface SystemMetrics {
  cpu_usage_percent: number;
  memory_usage_mb: number;
  disk_usage_percent: number;
  uptime_seconds: number;
}

interface CpuTimes {
  idle: number;
  total: number;
}

function cpuTimes(): CpuTimes {
  let idle = 0;
  let total = 0;
  for (const c of cpus()) {
    const t = c.times;
    idle += t.idle;
    total += t.user + t.nice + t.sys + t.idle + t.irq;
  }
  return { idle, total };
}

const round1 = (n: number) => Math.round(n * 10) / 10;

/** Host CPU (busy share between two samples), used memory and data-disk usage, for the heartbeat. */
export class MetricsSampler {
  #last: CpuTimes = cpuTimes();

  constructor(private readonly diskPath: string) {}

  async sample(): Promise<SystemMetrics> {
    const now = cpuTimes();
    const dTotal = now.total - this.#last.total;
    const dIdle = now.idle - this.#last.idle;
    this.#last = now;
    // Too short a window (or no cpu info in a container): fall back to the 1-minute load average.
    const cores = Math.max(1, cpus().length);
    const cpu = dTotal > 0 ? ((dTotal - dIdle) / dTotal) * 100 : ((loadavg()[0] ?? 0) / cores) * 100;
    return {
      cpu_usage_percent: round1(Math.min(100, Math.max(0, cpu))),
      memory_usage_mb: Math.round((totalmem() - freemem()) / 1048576),
      disk_usage_percent: await diskUsage(this.diskPath),
      uptime_seconds: Math.round(process.uptime())
    };
  }
}

async function diskUsage(path: string): Promise<number> {
  try {
    const s = await statfs(path);
    return s.blocks > 0 ? round1(((s.blocks - s.bfree) / s.blocks) * 100) : 0;
  } catch {
    return 0;
  }
}
