import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/app';
import { ConfigError } from '../../src/config/config-error';
import { testConfig } from '../helpers/config';

/** The value of one sample line of a Prometheus text exposition (undefined when absent). */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    const labelText = line.slice(name.length).match(/^\{(.*)\} /)?.[1] ?? '';
    const found = Object.fromEntries([...labelText.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
    if (Object.entries(labels).every(([k, v]) => found[k] === v) && Object.keys(found).length === Object.keys(labels).length) {
      return Number(line.slice(line.lastIndexOf(' ') + 1));
    }
  }
  return undefined;
}

describe('GET /metrics', () => {
  let app: FastifyInstance;
  let base: string;
  const scrape = async () => {
    const res = await fetch(`${base}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    return res.text();
  };

  beforeAll(async () => {
    app = await buildApp(testConfig());
    base = await app.listen({ port: 0, host: '127.0.0.1' });
  });
  afterAll(() => app.close());

  it('counts real requests by route pattern and status', async () => {
    const before = await scrape();
    const rootBefore = sample(before, 'satellite_http_requests_total', { method: 'GET', route: '/', status_code: '200' }) ?? 0;
    for (let i = 0; i < 3; i++) expect((await fetch(`${base}/`)).status).toBe(200);
    expect((await fetch(`${base}/no/such/path-4f1d?token=abc`)).status).toBe(404);
    expect((await fetch(`${base}/api/status/team?secret=xyz`)).status).toBe(401);
    const after = await scrape();
    expect(sample(after, 'satellite_http_requests_total', { method: 'GET', route: '/', status_code: '200' })).toBe(rootBefore + 3);
    expect(sample(after, 'satellite_http_requests_total', { method: 'GET', route: 'unmatched', status_code: '404' })).toBeGreaterThanOrEqual(1);
    expect(sample(after, 'satellite_http_requests_total', { method: 'GET', route: '/api/status/team', status_code: '401' })).toBeGreaterThanOrEqual(1);
    expect(sample(after, 'satellite_http_request_duration_seconds_count', { method: 'GET', route: '/' })).toBe(rootBefore + 3);
    // Raw URLs (ids, query strings, tokens) never become label values.
    expect(after).not.toContain('path-4f1d');
    expect(after).not.toContain('secret=xyz');
    expect(after).not.toContain('token=abc');
  });

  it('exposes tool-call latency, restarts, sessions and the event queue from the APIs other parts call', async () => {
    app.metrics.observeToolCall('team-a', 'memory', 0.2, 'ok');
    app.metrics.observeToolCall('team-a', 'memory', 3, 'error');
    app.metrics.recordRestart('team-a', 'memory');
    app.metrics.provide({ sessions: () => ({ streamable_http: 4, sse: 1 }), eventQueueDepth: () => 17, processStatuses: () => ['online', 'online', 'dormant'] });
    const text = await scrape();
    expect(sample(text, 'satellite_tool_call_duration_seconds_count', { team: 'team-a', server: 'memory', outcome: 'ok' })).toBe(1);
    expect(sample(text, 'satellite_tool_call_duration_seconds_bucket', { team: 'team-a', server: 'memory', outcome: 'ok', le: '0.25' })).toBe(1);
    expect(sample(text, 'satellite_tool_call_duration_seconds_bucket', { team: 'team-a', server: 'memory', outcome: 'error', le: '2.5' })).toBe(0);
    expect(sample(text, 'satellite_tool_call_duration_seconds_sum', { team: 'team-a', server: 'memory', outcome: 'error' })).toBe(3);
    expect(sample(text, 'satellite_process_restarts_total', { team: 'team-a', server: 'memory' })).toBe(1);
    expect(sample(text, 'satellite_sessions', { transport: 'streamable_http' })).toBe(4);
    expect(sample(text, 'satellite_sessions', { transport: 'sse' })).toBe(1);
    expect(sample(text, 'satellite_event_queue_depth')).toBe(17);
    expect(sample(text, 'satellite_processes', { status: 'online' })).toBe(2);
    expect(sample(text, 'satellite_processes', { status: 'dormant' })).toBe(1);
    expect(text).toMatch(/^process_resident_memory_bytes \d+/m);
  });

  it('keeps each app\'s counts in its own registry', async () => {
    const other = await buildApp(testConfig());
    try {
      await other.ready();
      const text = await other.metrics.scrape();
      expect(sample(text, 'satellite_http_requests_total', { method: 'GET', route: '/', status_code: '200' })).toBeUndefined();
      expect(sample(text, 'satellite_tool_call_duration_seconds_count', { team: 'team-a', server: 'memory', outcome: 'ok' })).toBeUndefined();
    } finally {
      await other.close();
    }
  });

  it('refuses scrapes from outside loopback', async () => {
    const res = await app.inject({ method: 'GET', url: '/metrics', remoteAddress: '10.1.2.3' });
    expect(res.statusCode).toBe(403);
    expect(res.json()).toEqual({ error: 'Forbidden', message: '/metrics is served to loopback and METRICS_ALLOWED_IPS only' });
    expect((await app.inject({ method: 'GET', url: '/metrics', remoteAddress: '::ffff:127.0.0.1' })).statusCode).toBe(200);
  });
});

describe('METRICS_ALLOWED_IPS', () => {
  it('admits the configured addresses and networks only', async () => {
    const app = await buildApp(testConfig({ METRICS_ALLOWED_IPS: '10.1.0.0/16, 192.0.2.7, 2001:db8::/32' }));
    try {
      const status = async (ip: string) => (await app.inject({ method: 'GET', url: '/metrics', remoteAddress: ip })).statusCode;
      expect(await status('10.1.200.3')).toBe(200);
      expect(await status('192.0.2.7')).toBe(200);
      expect(await status('2001:db8::5')).toBe(200);
      expect(await status('10.2.0.1')).toBe(403);
      expect(await status('192.0.2.8')).toBe(403);
    } finally {
      await app.close();
    }
  });

  it('stops the build with a clear error on a bad entry', async () => {
    const attempt = buildApp(testConfig({ METRICS_ALLOWED_IPS: '10.0.0.0/40' }));
    await expect(attempt).rejects.toThrow(ConfigError);
    await expect(attempt).rejects.toThrow('Invalid environment variable METRICS_ALLOWED_IPS: "10.0.0.0/40" is not an IP address or CIDR');
  });
});
