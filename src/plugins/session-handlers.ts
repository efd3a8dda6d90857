import fp from 'fastify-plugin';
import type { FastifyInstance } from 'fastify';
import { PassthroughFactory, type UpstreamSource } from '../gateway/passthrough';
import { ErrorCode, JsonRpcError } from '../mcp/jsonrpc';
import type { ClientIdentity, McpSessionHandler, SessionHandlerFactory, SessionTarget } from '../mcp/session-contract';
import { VERSION } from '../version';

declare module 'fastify' {
  interface FastifyInstance {
    /** Serves every session target: 'server' by the pass-through, 'team' by the team gateway. */
    sessionHandlers: SessionHandlerFactory;
  }
}

/** Stand-in for the team gateway while it is not registered: handshake only, every call fails clearly. */
const unavailableTeam: SessionHandlerFactory = {
  exists: (target: SessionTarget, identity: ClientIdentity) => target.teamId === identity.teamId,
  create: (): McpSessionHandler => ({
    initialize: async () => ({ capabilities: {}, serverInfo: { name: 'satellite', version: VERSION } }),
    handleRequest: async () => {
      throw new JsonRpcError(ErrorCode.InternalError, 'team gateway not available');
    },
    handleNotification: () => undefined,
    close: () => undefined
  })
};

// Decorators of other plugins are looked up per call: they may be registered after this one.
export default fp(async (app: FastifyInstance) => {
  const optional = <T>(name: string): T | undefined => (app.hasDecorator(name) ? app.getDecorator<T>(name) : undefined);
  const passthrough = new PassthroughFactory(() => optional<UpstreamSource>('servers'));
  const team = (): SessionHandlerFactory => optional<SessionHandlerFactory>('teamGateway') ?? unavailableTeam;
  const factory: SessionHandlerFactory = {
    exists: (target, identity) => (target.kind === 'server' ? passthrough : team()).exists(target, identity),
    create: (target, identity, outbound) => (target.kind === 'server' ? passthrough : team()).create(target, identity, outbound)
  };
  app.decorate('sessionHandlers', factory);
}, { name: 'session-handlers' });
