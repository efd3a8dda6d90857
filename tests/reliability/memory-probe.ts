// In-process memory checks for the reliability tests: a forced GC without --expose-gc on the
// command line, and a sampler that records the peak of heap plus external (Buffers) memory.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

setFlagsFromString('--expose-gc');
// The flag takes effect for a fresh context; its gc works on the whole isolate.
const gc = runInNewContext('gc') as () => void;

const used = (): number => {
  const m = process.memoryUsage();
  return m.heapUsed + m.external;
};

/** JS heap and external (Buffer) memory, in bytes, after a few forced collections. */
export async function settledBreakdown(): Promise<{ heap: number; external: number }> {
  for (let i = 0; i < 4; i++) {
    gc();
    await new Promise((r) => setTimeout(r, 20));
  }
  const m = process.memoryUsage();
  return { heap: m.heapUsed, external: m.external };
}

/** Heap plus external memory after a few forced collections. */
export async function settledMemory(): Promise<number> {
  const m = await settledBreakdown();
  return m.heap + m.external;
}

/** Samples memory every `everyMs` while `work` runs; returns its result and the peak growth over the settled start. */
export async function peakGrowthDuring<T>(work: () => Promise<T>, everyMs = 25): Promise<{ result: T; peakGrowthMb: number }> {
  const start = await settledMemory();
  let peak = start;
  const timer = setInterval(() => { peak = Math.max(peak, used()); }, everyMs);
  try {
    const result = await work();
    peak = Math.max(peak, used());
    return { result, peakGrowthMb: (peak - start) / 1024 / 1024 };
  } finally {
    clearInterval(timer);
  }
}
