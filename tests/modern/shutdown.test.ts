// Shutdown with modern clients connected: listen streams are not waited for like requests (the
// drain would hold app.close() until SHUTDOWN_TIMEOUT_MS), they are ended; parked calls are dropped.
import { expect, it } from 'vitest';
import { FIXTURE } from '../conformance/harness';
import { server, sseReader, startApp } from '../transports/helpers';
import { modern, modernBody, modernHeaders } from './helpers';

it('keeps listen streams alive, and ends them and parked input_required calls on close without waiting out the drain', async () => {
  // A drain that waited for the listen POST would exceed this test's own timeout.
  const { app, base } = await startApp({ SHUTDOWN_TIMEOUT_MS: '600000', MCP_SSE_KEEPALIVE_SECONDS: '1' }, { next: { ...server('team-a', 'next', [FIXTURE, '--2026']), installation_id: 'inst-a-next' } });
  let closed = false;
  try {
    const url = `${base}/servers/next/mcp`;
    const params = { notifications: { toolsListChanged: true } };
    const res = await fetch(url, { method: 'POST', headers: modernHeaders('subscriptions/listen', params), body: modernBody('subscriptions/listen', params) });
    const stream = sseReader(res);
    expect((await stream.read((ev) => ev.length >= 1, 3000)).events).toHaveLength(1);
    const alive = await stream.read(() => false, 1500);
    expect(alive.comments.length).toBeGreaterThanOrEqual(1);
    const parked = await modern(url, 'tools/call', { name: 'test_input_required_result_elicitation', arguments: {} }, { capabilities: { elicitation: {} } });
    expect(parked.body.result?.resultType).toBe('input_required');
    await app.close();
    closed = true;
    expect((await stream.read(() => false, 3000)).ended).toBe(true);
  } finally {
    if (!closed) await app.close();
  }
}, 15_000);
