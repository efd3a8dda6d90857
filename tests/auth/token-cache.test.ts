import { describe, expect, it } from 'vitest';
import { decide, type TokenDecision } from '../../src/auth/claims';
import { TokenCache } from '../../src/auth/token-cache';

const accept = (userId: string, expiresAt?: number): TokenDecision => ({ ok: true, token: { identity: { teamId: 't', userId, scopes: [], anonymous: false }, expiresAt } });
const refuse: TokenDecision = { ok: false, reason: 'inactive' };

function setup(opts: Partial<{ maxEntries: number; ttlMs: number; negativeTtlMs: number }> = {}) {
  const clock = { now: 1_000_000 };
  const cache = new TokenCache({ maxEntries: 100, ttlMs: 300_000, negativeTtlMs: 10_000, ...opts, now: () => clock.now });
  let loads = 0;
  const get = (token: string, d: TokenDecision) => cache.get(token, async () => {
    loads++;
    return d;
  });
  return { clock, cache, get, loads: () => loads };
}

describe('TokenCache', () => {
  it('keys entries by the SHA-256 of the whole token', () => {
    expect(TokenCache.key('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    expect(TokenCache.key('abc')).not.toBe(TokenCache.key('abd'));
  });

  it('never keeps an accepted token past its exp, even when the TTL is longer', async () => {
    const { clock, get, loads } = setup();
    await get('t1', accept('u', clock.now + 5_000));
    await get('t1', accept('u', clock.now + 5_000));
    expect(loads()).toBe(1);
    clock.now += 5_000;
    await get('t1', accept('u'));
    expect(loads()).toBe(2);
  });

  it('keeps a token without exp for the TTL only', async () => {
    const { clock, get, loads } = setup({ ttlMs: 60_000 });
    await get('t1', accept('u'));
    clock.now += 59_999;
    await get('t1', accept('u'));
    expect(loads()).toBe(1);
    clock.now += 1;
    await get('t1', accept('u'));
    expect(loads()).toBe(2);
  });

  it('remembers a refusal for the negative TTL only', async () => {
    const { clock, get, loads } = setup();
    await get('bad', refuse);
    clock.now += 9_999;
    await get('bad', refuse);
    expect(loads()).toBe(1);
    clock.now += 1;
    await get('bad', refuse);
    expect(loads()).toBe(2);
  });

  it('is bounded: the least recently used entry goes first', async () => {
    const { cache, get, loads } = setup({ maxEntries: 2 });
    await get('a', accept('ua'));
    await get('b', accept('ub'));
    await get('a', accept('ua')); // a is now the most recent
    await get('c', accept('uc')); // evicts b
    expect(cache.snapshot()).toMatchObject({ size: 2, evictions: 1 });
    await get('a', accept('ua'));
    expect(loads()).toBe(3);
    await get('b', accept('ub'));
    expect(loads()).toBe(4);
  });

  it('does not let a lookup that started before an invalidation re-insert its answer', async () => {
    const { cache } = setup();
    let release!: (d: TokenDecision) => void;
    const pending = cache.get('t', () => new Promise<TokenDecision>((r) => (release = r)));
    expect(cache.invalidateUser('u')).toBe(0);
    release(accept('u'));
    await pending;
    expect(cache.snapshot().size).toBe(0);
  });

  it('caches nothing when the size is 0, but still shares concurrent lookups', async () => {
    const { cache, get, loads } = setup({ maxEntries: 0 });
    await Promise.all([get('t', accept('u')), get('t', accept('u'))]);
    expect(loads()).toBe(1);
    await get('t', accept('u'));
    expect(loads()).toBe(2);
    expect(cache.snapshot().size).toBe(0);
  });
});

describe('decide (introspection claims)', () => {
  const rules = { teamClaim: 'team_id' };
  const now = 1_700_000_000_000;
  it('reads scope strings, numeric ids, and prefers user_id over sub', () => {
    const d = decide({ active: true, team_id: 42, sub: 's', user_id: 'u', scope: 'mcp:read  mcp:tools:execute', exp: now / 1000 + 60 }, rules, now);
    expect(d).toEqual({ ok: true, token: { identity: { teamId: '42', userId: 'u', scopes: ['mcp:read', 'mcp:tools:execute'], anonymous: false, clientId: undefined }, expiresAt: now + 60_000 } });
  });

  it('refuses inactive, not-yet-valid and team-less tokens', () => {
    expect(decide({ active: 'true', team_id: 't' }, rules, now).ok).toBe(false);
    expect(decide({ active: true, team_id: 't', nbf: now / 1000 + 60 }, rules, now).ok).toBe(false);
    expect(decide({ active: true, team_id: '' }, rules, now).ok).toBe(false);
  });
});
