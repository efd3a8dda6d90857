// The Authorization of one user's remote server (`requires_oauth: true`): that user's upstream
// token, never the MCP client's own. A 401 drops the cached token and asks the user to
// re-authorize; the next call fetches the token again (the user may have re-authorized since).
import type { McpServerConfig } from '../../config/server-config';
import { TransportError } from './errors';
import type { UpstreamTokenCache, UpstreamTokenRef } from './oauth-tokens';

/** The user must (re-)authorize the server: status requires_reauth, and the words a model shows them. */
export class ReauthRequiredError extends TransportError {
  constructor(message: string) {
    super(message);
    this.name = 'ReauthRequiredError';
  }
}

/** What an HttpEndpoint asks of its server's credentials on every request. */
export interface EndpointAuth {
  /** The Authorization header value; rejects with ReauthRequiredError or TransportError. */
  authorization(): Promise<string>;
  /** The server answered 401: forget the token; returns the error the call fails with. */
  rejected(): ReauthRequiredError;
}

export function oauthEndpointAuth(config: McpServerConfig, tokens: UpstreamTokenCache): EndpointAuth {
  if (config.user_id === undefined) throw new Error(`server ${config.server_slug} requires OAuth but is not a per-user entry (no user_id)`);
  const ref: UpstreamTokenRef = { installation_id: config.installation_id, user_id: config.user_id, team_id: config.team_id };
  const where = `Open the DeployStack dashboard, connect your account for '${config.installation_name}' again, then retry.`;
  return {
    async authorization() {
      let token;
      try {
        token = await tokens.get(ref);
      } catch (err) {
        throw new TransportError(`Server '${config.server_slug}' needs your OAuth token, which could not be fetched: ${(err as Error).message}.`);
      }
      if (!token) throw new ReauthRequiredError(`Server '${config.server_slug}' is not authorized for you yet. ${where}`);
      return `Bearer ${token.accessToken}`;
    },
    rejected() {
      tokens.invalidate(ref);
      return new ReauthRequiredError(`Server '${config.server_slug}' rejected your authorization (HTTP 401); it has expired or was revoked. ${where}`);
    }
  };
}
