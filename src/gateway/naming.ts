// Namespaced names of the team endpoint: `<server_slug>__<name>`.
export const SEPARATOR = '__';

export function namespaced(slug: string, name: string): string {
  return `${slug}${SEPARATOR}${name}`;
}

/** Splits a namespaced name by the longest known slug (slugs may themselves contain `__`). */
export function splitName(name: string, slugs: Iterable<string>): { slug: string; name: string } | undefined {
  let best: string | undefined;
  for (const slug of slugs) {
    if (name.startsWith(slug + SEPARATOR) && name.length > slug.length + SEPARATOR.length && (best === undefined || slug.length > best.length)) best = slug;
  }
  return best === undefined ? undefined : { slug: best, name: name.slice(best.length + SEPARATOR.length) };
}
