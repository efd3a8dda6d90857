// Starts the satellite in-process with the conformance fixture as a stdio server of the
// anonymous loopback team, for the official suite and the Inspector CLI to talk to.
import { execFile } from 'node:child_process';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/app';
import { testConfig } from '../helpers/config';

export const FIXTURE = fileURLToPath(new URL('../fixtures/conformance-fixture.mjs', import.meta.url));
export const SLUG = 'conformance';

/** `fixtureArgs: ['--2026']` adds the tools the 2026-07-28 scenarios of the 0.2.x suite call. */
export async function startConformanceApp(env: Record<string, string> = {}, fixtureArgs: string[] = []): Promise<{ app: FastifyInstance; base: string }> {
  const app = await buildApp(testConfig(env, {
    teams: { 'team-c': { slug: 'conf' } },
    anonymous: { team_id: 'team-c', user_id: 'tester' },
    mcp_servers: {
      conformance: {
        installation_id: 'inst-conf', team_id: 'team-c', team_slug: 'conf', server_slug: SLUG,
        installation_name: 'conformance', transport_type: 'stdio', command: 'node', args: [FIXTURE, ...fixtureArgs], enabled: true
      }
    }
  }));
  const base = await app.listen({ port: 0, host: '127.0.0.1' });
  return { app, base };
}

/** A pinned suite installed by scripts/install-conformance.sh (`.cache/<folder>`). */
export function suitePaths(folder: 'conformance' | 'conformance-next'): { node: string; suite: string; modules: string } {
  const modules = resolve(__dirname, '../../.cache', folder, 'node_modules');
  return { node: join(modules, 'node/bin/node'), suite: join(modules, '.bin/conformance'), modules };
}

/** Runs `conformance server --url <url> <args>` with results in outDir; never rejects. */
export function runSuite(paths: { node: string; suite: string }, url: string, args: string[], outDir: string): Promise<{ code: number; output: string }> {
  return new Promise((done) => {
    execFile(paths.node, [paths.suite, 'server', '--url', url, ...args, '-o', outDir], { cwd: outDir, timeout: 120_000, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof err.code === 'number' ? err.code : 1;
      done({ code, output: `${stdout}\n${stderr}` });
    });
  });
}
