// The background jobs other components register: tool-cache refresh (gateway) and remote health
// probe (servers), run through the real scheduler against a real stdio child and a real remote
// SDK server on loopback; /mcp clients are real SDK clients.
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { ToolListChangedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app';
import type { JobStatus } from '../../src/jobs/types';
import { testConfig } from '../helpers/config';
import { remote } from '../gateway/harness';
import { startMcpHttpServer, type TestMcpServer } from '../remote/helpers/mcp-http-server';
import { MINI, server, waitFor } from '../servers/helpers';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('background jobs of the gateway and the server registry', () => {
  let web: TestMcpServer;
  let app: FastifyInstance;
  let base: string;
  let client: Client | undefined;

  beforeAll(async () => {
    web = await startMcpHttpServer({ name: 'web-a' });
    // Long schedules: the tests run the jobs with runNow() so nothing races them.
    app = await buildApp(testConfig({ MCP_REQUEST_TIMEOUT_MS: '1000', MCP_HEALTH_PROBE_TIMEOUT_MS: '300' }, {
      teams: { 'team-a': { slug: 'alpha' } },
      anonymous: { team_id: 'team-a' },
      mcp_servers: { mini: server('mini', [MINI]), web: remote('web', web.url) }
    }));
    base = await app.listen({ port: 0, host: '127.0.0.1' });
    await app.servers.settled();
  });
  afterAll(async () => {
    await client?.close().catch(() => undefined);
    await app?.close();
    await web?.stop();
  });

  it('re-lists a server that changed its tools quietly and says list_changed once', async () => {
    client = new Client({ name: 'test', version: '1.0.0' });
    let changed = 0;
    client.setNotificationHandler(ToolListChangedNotificationSchema, () => void changed++);
    await client.connect(new StreamableHTTPClientTransport(new URL(`${base}/mcp`)));
    const before = (await client.listTools()).tools.map((t) => t.name);
    expect(before).toContain('mini__echo');
    expect(before).not.toContain('mini__quiet');

    // Nothing changed: a refresh says nothing.
    expect(await app.jobs.runNow('tool-cache-refresh')).toBe('success');
    // The server grows a tool without telling anyone (called directly, as the server itself would change).
    const mini = app.servers.get('team-a', 'mini')!;
    await mini.request('tools/call', { name: 'add_tool', arguments: { name: 'quiet' } });
    expect((await client.listTools()).tools.map((t) => t.name)).not.toContain('mini__quiet');

    expect(await app.jobs.runNow('tool-cache-refresh')).toBe('success');
    await waitFor(() => changed >= 1, 3000, 'list_changed');
    expect((await client.listTools()).tools.map((t) => t.name)).toContain('mini__quiet');
    // A further refresh with nothing new stays quiet, and is not use: it must not keep an idle server awake.
    const used = mini.snapshot();
    await sleep(20);
    expect(await app.jobs.runNow('tool-cache-refresh')).toBe('success');
    await sleep(200);
    expect(changed).toBe(1);
    expect(mini.snapshot()).toMatchObject({ lastActivityAt: used.lastActivityAt, requestCount: used.requestCount });
  });

  it('marks a hung remote server error on a failed probe and brings it back online on a good one', async () => {
    const web0 = app.servers.get('team-a', 'web')!;
    await waitFor(() => web0.status === 'online', 3000, 'web online');
    const statuses: string[] = [];
    const onStatus = (e: { serverSlug: string; status: string }): void => {
      if (e.serverSlug === 'web') statuses.push(e.status);
    };
    app.servers.events.on('status_changed', onStatus);
    try {
      // A healthy idle server passes and stays online.
      expect(await app.servers.probeRemotes(300)).toEqual({ ok: 1, failed: 0 });
      expect(web0.status).toBe('online');

      web.frozen = true;
      expect(await app.jobs.runNow('remote-health-probe')).toBe('success');
      expect(web0.status).toBe('error');
      expect(statuses).toContain('error');
      expect(web0.snapshot().lastError).toMatch(/did not answer within 300 ms/);

      web.frozen = false;
      // The probe reconnects an errored server at once (unless a background retry is already at it).
      // (A getter: TypeScript would narrow the status across the awaits.)
      const status = (): string => web0.status;
      for (let i = 0; i < 30 && status() !== 'online'; i++) {
        await app.jobs.runNow('remote-health-probe');
        if (status() !== 'online') await sleep(100);
      }
      expect(web0.status).toBe('online');
      expect(statuses.at(-1)).toBe('online');
    } finally {
      web.frozen = false;
      app.servers.events.off('status_changed', onStatus);
    }
  });

  it('lists every background job with its run counts on GET /api/status/jobs', async () => {
    const res = await fetch(`${base}/api/status/jobs`);
    expect(res.status).toBe(200);
    const { jobs } = (await res.json()) as { jobs: JobStatus[] };
    const byName = new Map(jobs.map((j) => [j.name, j]));
    for (const name of ['session-sweep', 'dormancy-check', 'tool-cache-refresh', 'remote-health-probe']) expect(byName.has(name), name).toBe(true);
    expect(byName.get('tool-cache-refresh')!.runs).toBeGreaterThanOrEqual(3);
    expect(byName.get('tool-cache-refresh')!.schedule).toBe('every 300000 ms');
    expect(byName.get('remote-health-probe')!.runs).toBeGreaterThanOrEqual(2);
    expect(byName.get('remote-health-probe')!.schedule).toBe('every 60000 ms');
    expect(byName.has('backend-command-poll')).toBe(false);
  });
});
