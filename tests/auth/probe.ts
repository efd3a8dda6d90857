import type { FastifyInstance } from 'fastify';
import { isAuthError } from '../../src/auth/errors';

/**
 * A tiny MCP-like route guarded exactly as the transports guard theirs: authenticateMcp on every
 * method, authorizeMcpMethod after "parsing" the JSON-RPC method. Answers with the identity.
 */
export function mountProbe(app: FastifyInstance, path = '/probe'): void {
  app.route({
    method: ['GET', 'POST', 'DELETE'],
    url: path,
    onRequest: app.authenticateMcp,
    handler: async (request, reply) => {
      const body = request.body as { method?: string; id?: number } | undefined;
      if (body?.method) {
        try {
          app.authorizeMcpMethod(request, body.method);
        } catch (err) {
          if (isAuthError(err)) return app.sendAuthError(reply, err, body.id ?? null);
          throw err;
        }
      }
      return { identity: request.identity };
    }
  });
}

export async function call(base: string, init: { method?: string; token?: string; body?: unknown; path?: string; headers?: Record<string, string> } = {}) {
  const headers: Record<string, string> = { ...init.headers };
  if (init.token !== undefined) headers.authorization = `Bearer ${init.token}`;
  if (init.body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(`${base}${init.path ?? '/probe'}`, {
    method: init.method ?? (init.body !== undefined ? 'POST' : 'GET'),
    headers,
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
    signal: AbortSignal.timeout(5000)
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) as any : undefined };
}
