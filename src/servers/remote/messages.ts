import type { Dispatcher } from 'undici';
import { classifyMessage, type JsonRpcMessage } from '../../mcp/jsonrpc';
import { SseParser } from './sse-parser';

/** Parses a JSON-RPC message or batch; undefined when the text is not one. */
export function parseMessages(text: string): JsonRpcMessage[] | undefined {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    return undefined;
  }
  const list = Array.isArray(doc) ? doc : [doc];
  return list.every((m) => classifyMessage(m) !== undefined) ? (list as JsonRpcMessage[]) : undefined;
}

/** Reads an event stream to its end, handing every JSON-RPC `message` event to `onMessage`. */
export async function readEventStream(
  body: Dispatcher.ResponseData['body'],
  onMessage: (m: JsonRpcMessage) => void,
  options: { signal?: AbortSignal; onEvent?(event: string, data: string): void; until?(m: JsonRpcMessage): boolean } = {}
): Promise<SseParser> {
  const { signal } = options;
  let done = false;
  const parser = new SseParser((e) => {
    if (e.event !== 'message') return options.onEvent?.(e.event, e.data);
    for (const m of parseMessages(e.data) ?? []) {
      onMessage(m);
      if (options.until?.(m)) done = true;
    }
  });
  const abort = (): void => void body.destroy();
  signal?.addEventListener('abort', abort, { once: true });
  try {
    for await (const chunk of body) {
      parser.push(chunk as Buffer);
      // Stop at our response: a server that keeps the stream open must not hold the call.
      if (done) break;
    }
  } finally {
    signal?.removeEventListener('abort', abort);
  }
  return parser;
}
