import type { OutgoingHttpHeaders } from 'node:http';
import type { FastifyReply } from 'fastify';
import { SSE_HEADERS } from './sse-stream';

/** Takes the response over from Fastify and starts an SSE body, keeping headers set by hooks (CORS). */
export function writeSseHead(reply: FastifyReply, extra: OutgoingHttpHeaders = {}): void {
  const headers: OutgoingHttpHeaders = { 'x-request-id': reply.request.id };
  for (const [k, v] of Object.entries(reply.getHeaders())) if (v !== undefined) headers[k] = v;
  reply.hijack();
  reply.raw.writeHead(200, { ...headers, ...SSE_HEADERS, ...extra });
  reply.raw.flushHeaders();
}
