import { describe, expect, it } from 'vitest';
import { UpstreamTokenCache, type UpstreamTokenRef } from '../../src/servers/remote/oauth-tokens';

const ANN: UpstreamTokenRef = { installation_id: 'inst-1', user_id: 'ann', team_id: 'team-1' };
const BOB: UpstreamTokenRef = { installation_id: 'inst-1', user_id: 'bob', team_id: 'team-1' };

// The backend's answers, as documents; the clock is ours so expiry is exact.
function cacheOver(docs: Map<string, Record<string, unknown>>) {
  const clock = { now: 1_000_000 };
  const asked: string[] = [];
  const cache = new UpstreamTokenCache({
    retrieve: () => async (ref) => {
      asked.push(ref.user_id);
      return docs.get(ref.user_id);
    },
    maxAgeMs: 300_000,
    skewMs: 30_000,
    now: () => clock.now
  });
  return { cache, clock, asked };
}

describe('upstream token cache', () => {
  it('keeps a token per user until shortly before it expires, then asks again', async () => {
    const docs = new Map<string, Record<string, unknown>>([
      ['ann', { access_token: 'a1', expires_at: new Date(1_000_000 + 120_000).toISOString() }],
      ['bob', { access_token: 'b1', expires_at: null }]
    ]);
    const { cache, clock, asked } = cacheOver(docs);
    expect((await cache.get(ANN))?.accessToken).toBe('a1');
    expect((await cache.get(BOB))?.accessToken).toBe('b1');
    expect((await cache.get(ANN))?.accessToken).toBe('a1');
    expect(asked).toEqual(['ann', 'bob']);

    docs.set('ann', { access_token: 'a2', expires_at: null });
    clock.now += 89_000; // 1 s before expiry minus skew: still cached
    expect((await cache.get(ANN))?.accessToken).toBe('a1');
    clock.now += 2_000; // within the skew of expires_at: renewed
    expect((await cache.get(ANN))?.accessToken).toBe('a2');
    // Bob's token has no expiry: kept for maxAge only.
    expect(asked).toEqual(['ann', 'bob', 'ann']);
    clock.now += 300_000;
    await cache.get(BOB);
    expect(asked).toEqual(['ann', 'bob', 'ann', 'bob']);
  });

  it('asks once for concurrent callers, forgets an invalidated token, and reports a user without one', async () => {
    const docs = new Map<string, Record<string, unknown>>([['ann', { access_token: 'a1', expires_at: null }]]);
    const { cache, asked } = cacheOver(docs);
    const both = await Promise.all([cache.get(ANN), cache.get(ANN)]);
    expect(both.map((t) => t?.accessToken)).toEqual(['a1', 'a1']);
    expect(asked).toEqual(['ann']);
    cache.invalidate(ANN);
    docs.set('ann', { access_token: 'a2', expires_at: null });
    expect((await cache.get(ANN))?.accessToken).toBe('a2');
    expect(await cache.get(BOB)).toBeUndefined();
  });

  it('fails clearly without a control plane (standalone mode)', async () => {
    const cache = new UpstreamTokenCache({ retrieve: () => undefined });
    await expect(cache.get(ANN)).rejects.toThrow(/no control plane/);
  });
});
