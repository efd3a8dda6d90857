// Response schemas of the status routes. fast-json-stringify drops every property not listed,
// a second guard (after status-team.ts) against leaking commands, env or URLs.

// Refusals come from the auth hook as JSON-RPC error objects, or from this plugin as { error, message }.
const errorBody = {
  type: 'object',
  properties: { jsonrpc: { type: 'string' }, error: {}, message: { type: 'string' }, id: { type: ['string', 'number', 'null'] } }
} as const;

const readyBody = {
  type: 'object',
  required: ['status', 'checks'],
  properties: {
    status: { type: 'string', enum: ['ready', 'not_ready'] },
    checks: {
      type: 'array',
      items: { type: 'object', required: ['name', 'ok'], properties: { name: { type: 'string' }, ok: { type: 'boolean' }, reason: { type: 'string' } } }
    }
  }
} as const;

export const readySchema = {
  summary: 'Readiness: 200 when the configuration is loaded and (backend mode) the backend is reachable, 503 with the reasons otherwise',
  tags: ['status'],
  response: { 200: readyBody, 503: readyBody }
} as const;

export const teamStatusSchema = {
  summary: "The caller's team: its servers, their state and tool counts",
  tags: ['status'],
  security: [{ bearerAuth: [] }],
  response: {
    200: {
      type: 'object',
      required: ['team', 'servers'],
      properties: {
        team: { type: 'object', required: ['id'], properties: { id: { type: 'string' }, slug: { type: 'string' }, name: { type: 'string' } } },
        budget: {
          type: 'object',
          description: 'The team\'s budgets towards its servers and their use now (0 = unlimited)',
          properties: {
            maxConcurrentCalls: { type: 'integer' }, callsInFlight: { type: 'integer' }, callsQueued: { type: 'integer' }, memoryBudgetMb: { type: 'integer' }
          }
        },
        servers: {
          type: 'array',
          items: {
            type: 'object',
            required: ['slug', 'name', 'transport', 'enabled', 'status', 'restarts'],
            properties: {
              slug: { type: 'string' },
              name: { type: 'string' },
              transport: { type: 'string', enum: ['stdio', 'http', 'sse'] },
              enabled: { type: 'boolean' },
              status: { type: 'string' },
              pid: { type: 'integer' },
              uptimeSeconds: { type: 'integer' },
              restarts: { type: 'integer' },
              toolsCount: { type: 'integer' },
              userId: { type: 'string' },
              instanceId: { type: 'string' },
              statusMessage: { type: 'string' }
            }
          }
        }
      }
    },
    '4xx': errorBody,
    503: errorBody
  }
} as const;

export const jobsStatusSchema = {
  summary: 'Background jobs: schedule, last run, duration, last error, runs, failures, skipped ticks',
  tags: ['status'],
  security: [{ bearerAuth: [] }],
  response: {
    200: {
      type: 'object',
      required: ['jobs'],
      properties: {
        jobs: {
          type: 'array',
          items: {
            type: 'object',
            required: ['name', 'schedule', 'timeoutMs', 'running', 'runs', 'failures', 'skipped'],
            properties: {
              name: { type: 'string' },
              schedule: { type: 'string' },
              timeoutMs: { type: 'integer' },
              running: { type: 'boolean' },
              runs: { type: 'integer' },
              failures: { type: 'integer' },
              skipped: { type: 'integer' },
              lastRunAt: { type: 'string', format: 'date-time' },
              lastDurationMs: { type: 'integer' },
              lastSuccessAt: { type: 'string', format: 'date-time' },
              lastError: { type: 'string' },
              nextRunAt: { type: 'string', format: 'date-time' }
            }
          }
        }
      }
    },
    '4xx': errorBody,
    503: errorBody
  }
} as const;
