/** Servers are keyed by team, slug and (for per-user instances) user: never by slug alone. */
export function serverKey(teamId: string, serverSlug: string, userId?: string): string {
  return JSON.stringify([teamId, serverSlug, userId ?? null]);
}

/** JSON with sorted object keys: two equal configs compare equal whatever their key order. */
export function stableStringify(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) return v;
    const o = v as Record<string, unknown>;
    return Object.fromEntries(Object.keys(o).sort().map((k) => [k, o[k]]));
  });
}
