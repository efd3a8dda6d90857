import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ClientIdentity } from '../mcp/session-contract';
import { jobsStatusSchema, readySchema, teamStatusSchema } from './status-schemas';
import { teamServers, type CachedToolCount } from './status-team';
import { teamBudgetStatus } from '../budgets/status';

type Authenticate = (request: FastifyRequest, reply: FastifyReply) => Promise<unknown> | void;

export interface StatusRoutesOptions {
  /** The onRequest hook that sets `request.identity`; `app.authenticateMcp` when omitted. */
  authenticate?: Authenticate;
}

// request.identity is declared by the auth plugin; read it without redeclaring its type.
const identityOf = (request: FastifyRequest) => (request as FastifyRequest & { identity?: ClientIdentity }).identity;

export default async function statusRoutes(app: FastifyInstance, opts: StatusRoutesOptions): Promise<void> {
  // Resolved per request, so the auth plugin may be registered before or after this one; with
  // no authenticator at all the routes fail closed.
  const authenticate = async (request: FastifyRequest, reply: FastifyReply) => {
    const auth = opts.authenticate ?? (app.hasDecorator('authenticateMcp') ? app.getDecorator<Authenticate>('authenticateMcp') : undefined);
    if (!auth) return reply.code(503).send({ error: 'Service Unavailable', message: 'authentication is not configured' });
    await auth.call(app, request, reply);
    if (reply.sent) return reply;
    if (!identityOf(request)) return reply.code(401).send({ error: 'Unauthorized', message: 'authentication required' });
  };

  app.get('/ready', { schema: readySchema }, async (_request, reply) => {
    const result = await app.readiness.evaluate();
    return reply.code(result.ready ? 200 : 503).send({ status: result.ready ? 'ready' : 'not_ready', checks: result.checks });
  });

  app.get('/api/status/team', { schema: teamStatusSchema, onRequest: authenticate }, async (request) => {
    const identity = identityOf(request)!;
    const config = app.configStore.current;
    // The registry is optional (a test app, or a build without stdio servers): configured servers still show.
    const snapshots = app.hasDecorator('servers') ? app.servers.list(identity.teamId) : [];
    const gateway = app.hasDecorator('teamGateway') ? app.getDecorator<{ toolCounts?(teamId: string): CachedToolCount[] }>('teamGateway') : undefined;
    const cached = typeof gateway?.toolCounts === 'function' ? gateway.toolCounts(identity.teamId) : [];
    const team = config.teams[identity.teamId];
    return {
      team: { id: identity.teamId, ...(team ? { slug: team.slug } : {}), ...(team?.name ? { name: team.name } : {}) },
      servers: teamServers(config, identity, snapshots, cached),
      ...(app.hasDecorator('budgets') ? { budget: teamBudgetStatus(app.budgets, identity.teamId) } : {})
    };
  });

  app.get('/api/status/jobs', { schema: jobsStatusSchema, onRequest: authenticate }, async () => ({
    jobs: app.hasDecorator('jobs') ? app.jobs.list() : []
  }));
}
