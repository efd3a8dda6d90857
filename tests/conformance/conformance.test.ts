// The official MCP conformance suite (server scenarios, active + pending) against the per-server
// pass-through endpoint, with the conformance fixture as a real stdio server behind it.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runSuite, SLUG, startConformanceApp, suitePaths } from './harness';

const PATHS = suitePaths('conformance');
const NODE = PATHS.node;
const SUITE = PATHS.suite;

interface Check { id: string; status: string; errorMessage?: string }

describe('official MCP conformance suite through /servers/:slug/mcp', () => {
  let app: FastifyInstance;
  let base: string;
  let outDir: string;
  beforeAll(async () => {
    outDir = mkdtempSync(join(tmpdir(), 'conformance-'));
    ({ app, base } = await startConformanceApp());
  });
  afterAll(async () => {
    await app?.close();
    rmSync(outDir, { recursive: true, force: true });
  });

  it('passes every server scenario', async () => {
    if (!existsSync(NODE) || !existsSync(SUITE)) {
      throw new Error('The conformance suite is not installed: run `bash scripts/install-conformance.sh` (installs Node 22 and @modelcontextprotocol/conformance into .cache/conformance)');
    }
    const { code, output } = await runSuite(PATHS, `${base}/servers/${SLUG}/mcp`, ['--suite', 'all'], outDir);
    const scenarios = readdirSync(outDir);
    const failed: string[] = [];
    let passed = 0;
    for (const s of scenarios) {
      const checks = JSON.parse(readFileSync(join(outDir, s, 'checks.json'), 'utf8')) as Check[];
      for (const c of checks) {
        if (c.status === 'FAILURE' || c.status === 'WARNING') failed.push(`${s}: ${c.id} ${c.status} ${c.errorMessage ?? ''}`);
        if (c.status === 'SUCCESS') passed++;
      }
    }
    expect(failed, output.slice(-4000)).toEqual([]);
    expect(code, output.slice(-4000)).toBe(0);
    // 0.1.16 has 32 server scenarios (30 active + 2 pending) with 43 successful checks on a conformant server.
    expect(scenarios.length).toBeGreaterThanOrEqual(32);
    expect(passed).toBeGreaterThanOrEqual(43);
  }, 150_000);
});
