// `tsx bench/profile-summary.ts <file.cpuprofile> [N]`: the N functions with the most self time in
// a V8 CPU profile (node --cpu-prof), and the same summed per source file.
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const [file, nArg] = process.argv.slice(2);
if (!file) {
  process.stderr.write('usage: tsx bench/profile-summary.ts <file.cpuprofile> [N]\n');
  process.exit(2);
}
const top = Number(nArg ?? 25);
const p = JSON.parse(readFileSync(file, 'utf8')) as Profile;
const byId = new Map(p.nodes.map((n) => [n.id, n]));
const selfUs = new Map<number, number>();
p.samples.forEach((id, i) => selfUs.set(id, (selfUs.get(id) ?? 0) + (p.timeDeltas[i] ?? 0)));
// Idle time is the process waiting for work: shares are of the time it was busy.
for (const [id] of selfUs) if (byId.get(id)?.callFrame.functionName === '(idle)') selfUs.delete(id);
const total = [...selfUs.values()].reduce((a, b) => a + b, 0);

const shortUrl = (url: string): string => (url.startsWith('file://') ? relative(process.cwd(), url.slice(7)) : url || '(native)');
const fnTotals = new Map<string, number>();
const fileTotals = new Map<string, number>();
for (const [id, us] of selfUs) {
  const f = byId.get(id)?.callFrame;
  if (!f) continue;
  const key = `${f.functionName || '(anonymous)'}  ${shortUrl(f.url)}:${f.lineNumber + 1}`;
  fnTotals.set(key, (fnTotals.get(key) ?? 0) + us);
  const fileKey = f.url.includes('node_modules') ? shortUrl(f.url).replace(/.*node_modules\/((@[^/]+\/)?[^/]+).*/, 'node_modules/$1') : shortUrl(f.url);
  fileTotals.set(fileKey, (fileTotals.get(fileKey) ?? 0) + us);
}
const print = (title: string, m: Map<string, number>): void => {
  process.stdout.write(`\n${title}\n`);
  for (const [k, us] of [...m].sort((a, b) => b[1] - a[1]).slice(0, top)) {
    process.stdout.write(`${((us / total) * 100).toFixed(1).padStart(5)}%  ${(us / 1000).toFixed(0).padStart(7)} ms  ${k}\n`);
  }
};
process.stdout.write(`${file}: ${(total / 1000).toFixed(0)} ms busy\n`);
print('self time by function', fnTotals);
print('self time by file or package', fileTotals);
