// Parked input_required calls: bounded in count and time, one retry each, only for their binding.
import { afterEach, describe, expect, it } from 'vitest';
import { BridgedCall } from '../../src/gateway/mrtr-call';
import { bindingOf, MrtrStore } from '../../src/gateway/mrtr-store';
import type { JsonObject } from '../../src/mcp/jsonrpc';
import type { ClientIdentity, McpSessionHandler, RequestContext } from '../../src/mcp/session-contract';

const alice: ClientIdentity = { teamId: 'team-a', userId: 'alice', scopes: [], anonymous: false };
const carol: ClientIdentity = { teamId: 'team-b', userId: 'carol', scopes: [], anonymous: false };

/** A handler whose one request asks the client for elicitation and echoes the answer. */
function asking(): { handler: McpSessionHandler; closed: () => boolean; aborted: () => boolean } {
  let closed = false;
  let aborted = false;
  const handler: McpSessionHandler = {
    initialize: async () => ({}),
    handleRequest: async (_req, ctx: RequestContext) => {
      ctx.signal.addEventListener('abort', () => { aborted = true; });
      const answer = await ctx.sendRequest('elicitation/create', { message: 'name?', _meta: { 'io.deploystack/inputKey': 'who' } });
      return { content: [{ type: 'text', text: JSON.stringify(answer) }] } as JsonObject;
    },
    handleNotification: () => undefined,
    close: () => { closed = true; }
  };
  return { handler, closed: () => closed, aborted: () => aborted };
}

async function parkedCall(store: MrtrStore, binding: string, who = alice): Promise<{ token: string; call: BridgedCall; probe: ReturnType<typeof asking> }> {
  const probe = asking();
  const call = new BridgedCall(probe.handler, who, { elicitation: {} }, true, undefined);
  call.start({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 't' } });
  const outcome = await call.next();
  expect(outcome).toEqual({ kind: 'input', inputRequests: { who: { method: 'elicitation/create', params: { message: 'name?' } } } });
  return { token: store.park(call, binding), call, probe };
}

describe('MrtrStore', () => {
  const stores: MrtrStore[] = [];
  afterEach(() => { for (const s of stores.splice(0)) s.closeAll('test over'); });
  const store = (maxParked: number, ttlMs: number, maxParkedPerTeam = maxParked): MrtrStore => {
    const s = new MrtrStore({ maxParked, maxParkedPerTeam, ttlMs });
    stores.push(s);
    return s;
  };
  const binding = bindingOf(alice, 'team:team-a', 'tools/call', 't');

  it('resumes a call once, only for its binding, and completes it with the answer', async () => {
    const s = store(10, 10_000);
    const { token, probe } = await parkedCall(s, binding);
    expect(s.take(token, bindingOf({ ...alice, userId: 'bob' }, 'team:team-a', 'tools/call', 't'))).toBeUndefined();
    expect(s.take(`${token}x`, binding)).toBeUndefined();
    const call = s.take(token, binding)!;
    expect(call).toBeDefined();
    expect(s.take(token, binding)).toBeUndefined();
    call.answer({ who: { action: 'accept', content: { name: 'Al' } }, extra: { ignored: true } });
    expect(await call.next()).toEqual({ kind: 'complete', result: { content: [{ type: 'text', text: '{"action":"accept","content":{"name":"Al"}}' }] } });
    expect(probe.closed()).toBe(true);
  });

  it('drops the oldest call beyond its bound, aborting its backend request', async () => {
    const s = store(2, 10_000);
    const first = await parkedCall(s, binding);
    await parkedCall(s, binding);
    await parkedCall(s, binding);
    expect(s.size).toBe(2);
    expect(s.take(first.token, binding)).toBeUndefined();
    expect(first.probe.aborted()).toBe(true);
    expect(first.probe.closed()).toBe(true);
  });

  it('makes a team that parks too many lose its own oldest call, not another team\'s', async () => {
    const s = store(10, 10_000, 2);
    const carols = await parkedCall(s, bindingOf(carol, 'team:team-b', 'tools/call', 't'), carol);
    const first = await parkedCall(s, binding);
    await parkedCall(s, binding);
    await parkedCall(s, binding);
    expect(s.size).toBe(3);
    expect(first.probe.aborted()).toBe(true);
    expect(carols.probe.aborted()).toBe(false);
    expect(s.take(carols.token, bindingOf(carol, 'team:team-b', 'tools/call', 't'))).toBeDefined();
  });

  it('expires a call the client does not retry in time', async () => {
    const s = store(10, 50);
    const { token, probe } = await parkedCall(s, binding);
    for (let i = 0; i < 40 && s.size > 0; i++) await new Promise((r) => setTimeout(r, 10));
    expect(s.size).toBe(0);
    expect(s.take(token, binding)).toBeUndefined();
    expect(probe.aborted()).toBe(true);
  });
});
