import { mcpServerConfigSchema, SLUG_PATTERN } from './server-config';

export const standaloneConfigSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['mcp_servers'],
  properties: {
    $schema: { type: 'string' },
    teams: {
      type: 'object',
      additionalProperties: {
        type: 'object',
        additionalProperties: false,
        required: ['slug'],
        properties: {
          slug: { type: 'string', pattern: SLUG_PATTERN },
          name: { type: 'string' },
          meta_tools: { type: 'boolean' },
          budgets: {
            type: 'object',
            additionalProperties: false,
            properties: {
              max_concurrent_calls: { type: 'integer', minimum: 0 },
              max_queued_calls: { type: 'integer', minimum: 0 },
              queue_wait_ms: { type: 'integer', minimum: 0, maximum: 600000 },
              memory_mb: { type: 'integer', minimum: 0 }
            }
          }
        }
      }
    },
    tokens: {
      type: 'object',
      propertyNames: { minLength: 16 },
      additionalProperties: {
        type: 'object',
        additionalProperties: false,
        required: ['team_id'],
        properties: {
          team_id: { type: 'string', minLength: 1 },
          user_id: { type: 'string' },
          scopes: { type: 'array', items: { type: 'string' } }
        }
      }
    },
    anonymous: {
      type: 'object',
      additionalProperties: false,
      required: ['team_id'],
      properties: { team_id: { type: 'string', minLength: 1 }, user_id: { type: 'string' } }
    },
    mcp_servers: { type: 'object', additionalProperties: mcpServerConfigSchema }
  }
} as const;
