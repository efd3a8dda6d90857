import { describe, expect, it } from 'vitest';
import { Writable } from 'node:stream';
import { buildApp } from '../../src/app';
import { createLogger } from '../../src/logging/logger';
import { redactUrl } from '../../src/logging/redaction';
import { testConfig } from '../helpers/config';

function capture(): { stream: Writable; text(): string } {
  const chunks: string[] = [];
  const stream = new Writable({ write(chunk, _enc, cb) { chunks.push(chunk.toString()); cb(); } });
  return { stream, text: () => chunks.join('') };
}

const SECRET = 'tok_5ecr3t_value_that_must_not_leak';

describe('logging', () => {
  it('logs every request with a request id and never the Authorization header or secret query values', async () => {
    const logs = capture();
    const app = await buildApp(testConfig({ LOG_LEVEL: 'info' }), { logStream: logs.stream });
    try {
      const res = await app.inject({ method: 'GET', url: `/?token=${SECRET}&sessionId=${SECRET}`, headers: { authorization: `Bearer ${SECRET}` } });
      expect(res.statusCode).toBe(200);
      const lines = logs.text().trim().split('\n').map((l) => JSON.parse(l));
      const incoming = lines.find((l) => l.msg === 'incoming request');
      expect(incoming.reqId).toBe(res.headers['x-request-id']);
      expect(incoming.req.url).toBe('/?token=[Redacted]&sessionId=[Redacted]');
      expect(lines.find((l) => l.msg === 'request completed').reqId).toBe(incoming.reqId);
      expect(logs.text()).not.toContain(SECRET);
    } finally {
      await app.close();
    }
  });

  it('redacts server env, headers and tokens in structured log fields', () => {
    const logs = capture();
    const log = createLogger({ logLevel: 'info', nodeEnv: 'production' }, logs.stream);
    log.info({ server: { command: 'node', env: { GITHUB_TOKEN: SECRET }, headers: { Authorization: SECRET } } }, 'spawning');
    log.info({ token: SECRET, api_key: SECRET, config: { headers: { 'X-Api-Key': SECRET } } }, 'misc');
    log.info({ env: { A: SECRET } }, 'top-level env');
    const text = logs.text();
    expect(text).toContain('spawning');
    expect(text).toContain('"command":"node"');
    expect(text).not.toContain(SECRET);
  });

  it('honours LOG_LEVEL', () => {
    const logs = capture();
    const log = createLogger({ logLevel: 'warn', nodeEnv: 'production' }, logs.stream);
    log.info('quiet');
    log.warn('loud');
    expect(logs.text()).not.toContain('quiet');
    expect(logs.text()).toContain('loud');
  });

  it('redacts secret query parameters in URLs', () => {
    expect(redactUrl('/message?sessionId=abc&x=1')).toBe('/message?sessionId=[Redacted]&x=1');
    expect(redactUrl('/x?access_token=a#f')).toBe('/x?access_token=[Redacted]#f');
    expect(redactUrl('/plain')).toBe('/plain');
  });
});
