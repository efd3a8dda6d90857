// Row (a): the echo server driven directly over its stdin/stdout, the physical limit of the path.
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import { CLIENT_PROTOCOL_VERSION, deadline, initializeParams, initializeResult, type JsonObject, type McpClient, type RpcExchange } from './client';

export class StdioClient implements McpClient {
  private nextId = 1;
  private buf = '';
  private readonly pending = new Map<number, (m: JsonObject) => void>();
  strays = 0;
  protocolVersion = CLIENT_PROTOCOL_VERSION;

  private constructor(readonly child: ChildProcessByStdio<Writable, Readable, null>, private readonly timeoutMs: number) {
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => this.onData(chunk));
    child.on('exit', () => {
      for (const resolve of this.pending.values()) resolve({ error: { code: -32000, message: 'server exited' } });
      this.pending.clear();
    });
  }

  static async spawn(command: string, args: string[], timeoutMs = 10_000): Promise<StdioClient> {
    const c = new StdioClient(spawn(command, args, { stdio: ['pipe', 'pipe', 'inherit'] }), timeoutMs);
    const result = initializeResult(await c.request('initialize', initializeParams()));
    if (typeof result.protocolVersion === 'string') c.protocolVersion = result.protocolVersion;
    c.write({ jsonrpc: '2.0', method: 'notifications/initialized' });
    return c;
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  private onData(chunk: string): void {
    this.buf += chunk;
    let nl: number;
    while ((nl = this.buf.indexOf('\n')) !== -1) {
      const line = this.buf.slice(0, nl);
      this.buf = this.buf.slice(nl + 1);
      if (!line.trim()) continue;
      const msg = JSON.parse(line) as JsonObject;
      const resolve = typeof msg.id === 'number' ? this.pending.get(msg.id) : undefined;
      if (!resolve) {
        this.strays++;
        continue;
      }
      this.pending.delete(msg.id as number);
      resolve(msg);
    }
  }

  private write(msg: JsonObject): void {
    this.child.stdin.write(JSON.stringify(msg) + '\n');
  }

  async request(method: string, params?: JsonObject): Promise<RpcExchange> {
    const id = this.nextId++;
    const answer = new Promise<JsonObject>((resolve) => this.pending.set(id, resolve));
    this.write({ jsonrpc: '2.0', id, method, params });
    try {
      return { id, response: await deadline(answer, this.timeoutMs, `${method} #${id}`) };
    } finally {
      this.pending.delete(id);
    }
  }

  async close(): Promise<void> {
    this.child.stdin.end();
    const exited = new Promise<void>((resolve) => (this.child.exitCode !== null ? resolve() : this.child.once('exit', () => resolve())));
    try {
      await deadline(exited, 2000, 'echo server exit');
    } catch {
      this.child.kill('SIGKILL');
    }
  }
}
