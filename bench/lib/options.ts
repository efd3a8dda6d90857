// Command line and environment of `npm run bench`.
export interface BenchOptions {
  durationMs: number;
  warmupMs: number;
  maxCalls: number;
  repeat: number;
  idleSessions: number;
  coldRuns: number;
  spawnServers: number;
  dormancyRounds: number;
  dormancyWaitMs: number;
  only: Set<string>;
  bwrap: boolean;
  satellite: 'auto' | 'dist' | 'tsx' | 'build';
  profile: boolean;
  out: string;
  quick: boolean;
}

export const TARGET_NAMES = ['direct', 'satellite', 'sdk', 'supergateway', 'mcp-proxy'] as const;

export const USAGE = `usage: npm run bench -- [options]
  --quick              short cells (1.5 s), 200 idle sessions, fewer samples
  --duration=S         seconds per load cell (default 5; env BENCH_DURATION_S)
  --warmup=S           warm-up seconds per endpoint (default 1)
  --max-calls=N        call budget per cell (default 2000000)
  --repeat=N           runs per cell, the median by req/s is reported (default 1)
  --sessions=N         idle sessions for the memory figure (default 1000; env BENCH_IDLE_SESSIONS)
  --only=a,b           subset of: ${TARGET_NAMES.join(', ')}
  --bwrap              also measure the satellite with SANDBOX=bwrap
  --satellite=WHICH    auto (dist/ if newer than src/, else build), build (webpack into
                       .cache/satellite-dist), dist, tsx (src/ through tsx)
  --no-dormancy        skip the dormant-server measurement
  --profile            write a --cpu-prof profile of the satellite (path printed)
  --out=FILE           JSON results (default bench/results/latest.json)
env BENCH_SATELLITE_LOG_LEVEL sets the satellite's LOG_LEVEL (default warn).`;

function num(name: string, v: string | undefined, min: number, max: number): number {
  const n = Number(v);
  if (v === undefined || !Number.isFinite(n) || n < min || n > max) throw new Error(`${name} must be a number from ${min} to ${max}, got ${JSON.stringify(v)}`);
  return n;
}

export function parseOptions(argv: string[], env: NodeJS.ProcessEnv): BenchOptions {
  const quick = argv.includes('--quick');
  const o: BenchOptions = {
    durationMs: (env.BENCH_DURATION_S ? num('BENCH_DURATION_S', env.BENCH_DURATION_S, 0.1, 600) : quick ? 1.5 : 5) * 1000,
    warmupMs: quick ? 300 : 1000,
    maxCalls: 2_000_000,
    repeat: 1,
    idleSessions: env.BENCH_IDLE_SESSIONS ? num('BENCH_IDLE_SESSIONS', env.BENCH_IDLE_SESSIONS, 1, 100_000) : quick ? 200 : 1000,
    coldRuns: quick ? 10 : 30,
    spawnServers: quick ? 2 : 5,
    dormancyRounds: quick ? 1 : 2,
    // The satellite checks for idle servers every 30 s.
    dormancyWaitMs: 45_000,
    only: new Set(TARGET_NAMES),
    bwrap: false,
    satellite: 'auto',
    profile: false,
    out: 'bench/results/latest.json',
    quick
  };
  for (const arg of argv) {
    const [key, value] = arg.includes('=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg, undefined];
    switch (key) {
      case '--quick': break;
      case '--duration': o.durationMs = num('--duration', value, 0.1, 600) * 1000; break;
      case '--warmup': o.warmupMs = num('--warmup', value, 0, 60) * 1000; break;
      case '--max-calls': o.maxCalls = num('--max-calls', value, 1, 50_000_000); break;
      case '--repeat': o.repeat = Math.floor(num('--repeat', value, 1, 20)); break;
      case '--sessions': o.idleSessions = num('--sessions', value, 1, 100_000); break;
      case '--only': {
        const names = (value ?? '').split(',').filter(Boolean);
        const bad = names.filter((n) => !(TARGET_NAMES as readonly string[]).includes(n));
        if (names.length === 0 || bad.length) throw new Error(`--only takes ${TARGET_NAMES.join(', ')}; got ${JSON.stringify(value)}`);
        o.only = new Set(names);
        break;
      }
      case '--bwrap': o.bwrap = true; break;
      case '--satellite':
        if (value !== 'auto' && value !== 'dist' && value !== 'tsx' && value !== 'build') throw new Error(`--satellite takes auto, build, dist or tsx; got ${JSON.stringify(value)}`);
        o.satellite = value;
        break;
      case '--no-dormancy': o.dormancyRounds = 0; break;
      case '--profile': o.profile = true; break;
      case '--out':
        if (!value) throw new Error('--out needs a file name');
        o.out = value;
        break;
      default: throw new Error(`unknown option ${arg}\n${USAGE}`);
    }
  }
  return o;
}
