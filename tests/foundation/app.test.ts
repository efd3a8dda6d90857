import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/app';
import { testConfig } from '../helpers/config';

describe('buildApp', () => {
  let app: FastifyInstance;
  let base: string;
  beforeAll(async () => {
    app = await buildApp(testConfig());
    base = await app.listen({ port: 0, host: '127.0.0.1' });
  });
  afterAll(() => app.close());

  it('answers GET / with the service status over real HTTP', async () => {
    const res = await fetch(`${base}/`);
    expect(res.status).toBe(200);
    expect(res.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    const body = (await res.json()) as Record<string, any>;
    expect(body).toMatchObject({ service: 'satellite', status: 'healthy', mode: 'standalone' });
    expect(typeof body.version).toBe('string');
    expect(typeof body.uptime).toBe('number');
    expect(Date.parse(body.timestamp)).not.toBeNaN();
  });

  it('documents its routes at /documentation/json', async () => {
    const res = await fetch(`${base}/documentation/json`);
    expect(res.status).toBe(200);
    const doc = (await res.json()) as Record<string, any>;
    expect(doc.openapi).toMatch(/^3\./);
    expect(doc.paths['/']).toBeDefined();
  });

  it('serves the Swagger UI at /documentation', async () => {
    const res = await fetch(`${base}/documentation/`, { redirect: 'follow' });
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('swagger');
  });

  it('refuses cross-origin requests from origins not configured', async () => {
    const res = await fetch(`${base}/`, { method: 'OPTIONS', headers: { Origin: 'http://evil.example', 'Access-Control-Request-Method': 'GET' } });
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
  });
});

describe('CORS with configured origins', () => {
  it('answers a preflight for an allowed origin and exposes Mcp-Session-Id', async () => {
    const app = await buildApp(testConfig({ SATELLITE_CORS_ORIGINS: 'http://app.example' }));
    try {
      const res = await app.inject({ method: 'OPTIONS', url: '/', headers: { origin: 'http://app.example', 'access-control-request-method': 'POST' } });
      expect(res.statusCode).toBe(204);
      expect(res.headers['access-control-allow-origin']).toBe('http://app.example');
      const get = await app.inject({ method: 'GET', url: '/', headers: { origin: 'http://app.example' } });
      expect(String(get.headers['access-control-expose-headers'])).toContain('Mcp-Session-Id');
    } finally {
      await app.close();
    }
  });
});
