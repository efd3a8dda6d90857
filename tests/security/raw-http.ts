// HTTP exactly as written: paths that fetch would normalize (.., %2e%2e) and bytes no client sends.
import { request } from 'node:http';
import { connect } from 'node:net';

export interface RawAnswer { status: number; headers: Record<string, string | string[] | undefined>; body: string }

/** One request with the path sent verbatim; resolves with status 0 if the server drops the socket. */
export function rawHttp(base: string, method: string, path: string, headers: Record<string, string>, body?: string, timeoutMs = 5000): Promise<RawAnswer> {
  const u = new URL(base);
  return new Promise((resolve, reject) => {
    const req = request({ host: u.hostname, port: u.port, method, path, headers, timeout: timeoutMs, agent: false }, (res) => {
      let data = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => { data += c; });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: data }));
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${path.slice(0, 60)}: no answer in ${timeoutMs} ms`)));
    req.on('error', (e: NodeJS.ErrnoException) => (e.code === 'ECONNRESET' || e.code === 'EPIPE' ? resolve({ status: 0, headers: {}, body: '' }) : reject(e)));
    req.end(body);
  });
}

/** Writes `bytes` on a fresh connection and collects everything until the server closes it (bounded). */
export function rawSocket(base: string, bytes: string | Buffer, timeoutMs = 5000): Promise<string> {
  const u = new URL(base);
  return new Promise((resolve, reject) => {
    const s = connect(Number(u.port), u.hostname);
    let data = '';
    const timer = setTimeout(() => { s.destroy(); reject(new Error(`socket not closed in ${timeoutMs} ms; got ${data.slice(0, 200)}`)); }, timeoutMs);
    s.setEncoding('utf8');
    s.on('data', (c: string) => { data += c; });
    s.on('close', () => { clearTimeout(timer); resolve(data); });
    s.on('error', () => undefined);
    s.write(bytes);
  });
}
