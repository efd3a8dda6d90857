// A real ServerRegistry (stdio children through the `none` sandbox driver, remote servers through
// remoteUpstreamFactory) behind a TeamGateway, and a RequestContext that records what a client gets.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { ConfigStore } from '../../src/config/config-store';
import { loadEnv } from '../../src/config/env';
import type { McpServerConfig } from '../../src/config/server-config';
import { TeamGateway, type TeamGatewayOptions } from '../../src/gateway/team-gateway';
import type { JsonObject, JsonRpcNotification } from '../../src/mcp/jsonrpc';
import type { ClientIdentity, McpSessionHandler, RequestContext, SessionOutbound } from '../../src/mcp/session-contract';
import { createSandboxDriver } from '../../src/sandbox/factory';
import { ServerRegistry } from '../../src/servers/registry';
import { remoteUpstreamFactory } from '../../src/servers/remote';
import { stdioRuntimeOptions } from '../../src/servers/stdio/options';
import { configOf } from '../servers/helpers';

export function remote(slug: string, url: string, extra: Partial<McpServerConfig> = {}): McpServerConfig {
  return {
    installation_id: `inst-${slug}-${extra.team_id ?? 'team-a'}`, team_id: 'team-a', team_slug: 'alpha', server_slug: slug,
    installation_name: slug, transport_type: 'http', url, enabled: true, ...extra
  };
}

export interface GatewayHarness {
  registry: ServerRegistry;
  store: ConfigStore;
  gateway: TeamGateway;
  close(): Promise<void>;
}

export async function startGateway(servers: McpServerConfig[], options: Partial<TeamGatewayOptions> = {}): Promise<GatewayHarness> {
  const dataDir = mkdtempSync(join(tmpdir(), 'satellite-gateway-'));
  const env = loadEnv({ NODE_ENV: 'test', SANDBOX: 'none', SATELLITE_DATA_DIR: dataDir, LOG_LEVEL: 'silent' });
  const log = pino({ level: 'silent' });
  const store = new ConfigStore(configOf(servers));
  const registry = new ServerRegistry({
    configStore: store, driver: createSandboxDriver(env, log), log, eager: true,
    remoteFactory: remoteUpstreamFactory(5000),
    stdio: stdioRuntimeOptions(env, {
      crashPolicy: { backoffMs: [20, 40, 60], maxCrashes: 3, windowMs: 60_000 },
      terminate: { stdinGraceMs: 300, killGraceMs: 300 },
      startupTimeoutMs: 5000,
      requestTimeoutMs: 5000
    })
  });
  await registry.start();
  const gateway = new TeamGateway({ servers: registry, log, listWaitMs: 3000, ...options });
  return {
    registry, store, gateway,
    close: async () => {
      gateway.close();
      await registry.closeAll();
      rmSync(dataDir, { recursive: true, force: true });
    }
  };
}

/** A client session as the transports would drive it: outbound and per-request notifications recorded. */
export class TestSession {
  readonly handler: McpSessionHandler;
  readonly outbound: JsonRpcNotification[] = [];
  readonly inCall: JsonRpcNotification[] = [];
  answerSampling: ((params?: JsonObject) => Promise<JsonObject>) | undefined;
  #nextId = 1;

  constructor(gateway: TeamGateway, readonly identity: ClientIdentity, metaTools?: boolean) {
    const out: SessionOutbound = {
      sendNotification: (n) => void this.outbound.push(n),
      sendRequest: async () => ({})
    };
    this.handler = gateway.create({ kind: 'team', teamId: identity.teamId, ...(metaTools !== undefined ? { metaTools } : {}) }, identity, out);
  }

  async init(capabilities: JsonObject = { sampling: {} }): Promise<JsonObject> {
    return this.handler.initialize({ protocolVersion: '2025-11-25', capabilities });
  }

  request(method: string, params?: JsonObject): Promise<JsonObject> {
    const ctx: RequestContext = {
      sessionId: 'test', identity: this.identity, signal: new AbortController().signal,
      sendNotification: (n) => void this.inCall.push(n),
      sendRequest: async (m, p) => {
        if (m === 'sampling/createMessage' && this.answerSampling) return this.answerSampling(p);
        throw new Error(`unexpected ${m}`);
      }
    };
    return this.handler.handleRequest({ jsonrpc: '2.0', id: this.#nextId++, method, ...(params ? { params } : {}) }, ctx);
  }

  /** Every page of tools/list (bounded). */
  async toolNames(): Promise<string[]> {
    const names: string[] = [];
    let cursor: unknown;
    for (let page = 0; page < 50; page++) {
      const r = await this.request('tools/list', cursor === undefined ? {} : { cursor });
      names.push(...(r.tools as Array<{ name: string }>).map((t) => t.name));
      cursor = r.nextCursor;
      if (cursor === undefined) break;
    }
    return names;
  }
}

export function team(teamId: string, userId?: string): ClientIdentity {
  return { teamId, ...(userId ? { userId } : {}), scopes: ['mcp:read', 'mcp:tools:execute'], anonymous: false };
}

export function textOf(result: JsonObject): string {
  return (result.content as Array<{ text: string }>)[0]!.text;
}

export async function waitFor(check: () => boolean | Promise<boolean>, ms = 5000, what = 'condition'): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
