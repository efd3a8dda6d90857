// Requests Fastify refuses before routing (a URL it cannot decode, a path parameter past
// maxParamLength) get the JSON-RPC error shape of every other MCP refusal, and never echo the URL.
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { ErrorCode } from '../mcp/jsonrpc';
import { sendJsonRpcError } from './http-guards';

export function frameworkErrors(err: FastifyError, _req: FastifyRequest, reply: FastifyReply): void {
  if (err.code === 'FST_ERR_MAX_PARAM_LENGTH') {
    void sendJsonRpcError(reply, 414, ErrorCode.InvalidRequest, 'Bad Request: a path segment is too long');
    return;
  }
  void sendJsonRpcError(reply, 400, ErrorCode.InvalidRequest, 'Bad Request: malformed URL');
}
