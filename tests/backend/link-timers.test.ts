import { join } from 'node:path';
import pino from 'pino';
import type { FastifyBaseLogger } from 'fastify';
import { describe, expect, it } from 'vitest';
import { BackendLink } from '../../src/backend/link';
import { ConfigStore } from '../../src/config/config-store';
import { loadEnv } from '../../src/config/env';
import { parseStandaloneConfig } from '../../src/config/standalone';
import { EventBus } from '../../src/events/bus';
import { DurableEventQueue } from '../../src/events/journal';
import { backendEnv, newToken, stdioServer, waitFor, withBackend } from './helpers';

describe('backend link on its own timers (no job scheduler)', () => {
  it('heartbeats, re-checks config, flushes events and polls on its own, and stops cleanly', async () => {
    await withBackend(async ({ fake, dir }) => {
      const env = loadEnv({ NODE_ENV: 'test', ...backendEnv(fake, dir, newToken(fake), { DEPLOYSTACK_BACKEND_POLLING_INTERVAL: '1' }) });
      fake.nextPollInterval = undefined;
      const log = pino({ level: 'silent' }) as unknown as FastifyBaseLogger;
      const store = new ConfigStore(parseStandaloneConfig({ mcp_servers: {} }, 'test'));
      const queue = new DurableEventQueue({ dir: join(dir, 'events'), maxInMemory: 100 });
      const events = new EventBus();
      events.attachSink(queue);
      const link = new BackendLink({ env, store, events, queue, log, intervals: { heartbeatMs: 100, configCheckMs: 100 } });
      try {
        link.start();
        await waitFor('connection', () => link.state === 'connected');
        events.emit('mcp.client.activity', { team_id: 't', request_count: 1, tool_call_count: 0, last_activity_at: new Date().toISOString() });
        fake.config = { mcp_servers: { a: stdioServer('i-1', 'team-a', 'alpha') } };
        fake.queueCommand({ command_type: 'health_check', payload: {} });
        await waitFor('three heartbeats, the event, the new config and the polled command', () =>
          fake.heartbeats.length >= 3 && fake.events.length === 1 && Object.keys(store.current.mcp_servers).length === 1 && fake.results.length === 1, 5_000);
        await link.stop();
        const count = fake.requests.length;
        await new Promise((r) => setTimeout(r, 300));
        expect(fake.requests.length).toBe(count);
      } finally {
        await link.stop();
        queue.close();
      }
    });
  });
});
