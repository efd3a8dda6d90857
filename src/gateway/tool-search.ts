// Ranked text search over tool names, descriptions and server slugs, for discover_mcp_tools.
// Weights follow the original (name 0.4, description 0.35, slug 0.25); no index: catalogs are small.
export interface Searchable {
  name: string;
  description: string;
  slug: string;
}

const WEIGHTS = { name: 0.4, description: 0.35, slug: 0.25 } as const;

function words(s: string): string[] {
  return s.toLowerCase().split(/[^a-z0-9]+/).filter(Boolean);
}

/** How well one query term matches one word: exact 1, prefix 0.8, inside 0.6, one typo 0.4 (0.35 in a prefix). */
function termScore(term: string, fieldWords: string[], field: string): number {
  let best = 0;
  for (const w of fieldWords) {
    if (w === term) return 1;
    if (w.startsWith(term)) best = Math.max(best, 0.8);
    else if (term.length >= 4 && w.length >= 4 && withinOneEdit(term, w)) best = Math.max(best, 0.4);
    // A typo in the start of a longer word ("isue" for "issues").
    else if (term.length >= 4 && w.length > term.length + 1 && withinOneEdit(term, w.slice(0, term.length + 1))) best = Math.max(best, 0.35);
  }
  if (best < 0.6 && term.length >= 3 && field.includes(term)) best = 0.6;
  return best;
}

function withinOneEdit(a: string, b: string): boolean {
  if (Math.abs(a.length - b.length) > 1) return false;
  let i = 0;
  let j = 0;
  let edits = 0;
  while (i < a.length && j < b.length) {
    if (a[i] === b[j]) {
      i++;
      j++;
      continue;
    }
    if (++edits > 1) return false;
    if (a.length > b.length) i++;
    else if (b.length > a.length) j++;
    else {
      i++;
      j++;
    }
  }
  return edits + (a.length - i) + (b.length - j) <= 1;
}

/** Score in 0..1; 0 means no term matched anywhere. */
export function scoreTool(query: string, tool: Searchable): number {
  const terms = words(query);
  if (terms.length === 0) return 0;
  const fields = {
    name: { text: tool.name.toLowerCase(), words: words(tool.name) },
    description: { text: tool.description.toLowerCase(), words: words(tool.description) },
    slug: { text: tool.slug.toLowerCase(), words: words(tool.slug) }
  };
  let total = 0;
  let matched = 0;
  for (const term of terms) {
    let termTotal = 0;
    for (const key of Object.keys(WEIGHTS) as Array<keyof typeof WEIGHTS>) {
      termTotal += WEIGHTS[key] * termScore(term, fields[key].words, fields[key].text);
    }
    if (termTotal > 0) matched++;
    total += termTotal;
  }
  // Every term should count: a tool matching all of them beats one matching a single term well.
  return (total / terms.length) * (matched / terms.length);
}

/** Ranked matches, best first (ties by name); `*` or an empty query lists everything. */
export function searchTools<T extends Searchable>(query: string, tools: T[], limit: number): Array<{ tool: T; score: number }> {
  const all = query.trim() === '' || query.trim() === '*';
  const scored = tools
    .map((tool) => ({ tool, score: all ? 1 : scoreTool(query, tool) }))
    .filter((s) => s.score > 0)
    .sort((a, b) => b.score - a.score || (a.tool.slug + a.tool.name).localeCompare(b.tool.slug + b.tool.name));
  return scored.slice(0, limit);
}
