import type { FastifyRequest } from 'fastify';
import type { SessionTarget } from '../mcp/session-contract';
import { identityOf } from './deps';

/**
 * The caller's team endpoint. `?meta_tools=1` asks for the two meta-tools instead of the full
 * catalog for this session; without it the team's config decides.
 */
export function teamTarget(req: FastifyRequest): SessionTarget {
  const flag = (req.query as Record<string, unknown> | undefined)?.meta_tools;
  const metaTools = flag === '1' || flag === 'true' ? true : flag === '0' || flag === 'false' ? false : undefined;
  return { kind: 'team', teamId: identityOf(req).teamId, ...(metaTools === undefined ? {} : { metaTools }) };
}
