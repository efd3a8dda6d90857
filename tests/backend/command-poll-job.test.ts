// The command poll as the 'backend-command-poll' job: visible on GET /api/status/jobs, still
// paced by the backend's next_poll_interval hint, failures shown as the job's last error.
import { describe, expect, it } from 'vitest';
import type { JobStatus } from '../../src/jobs/types';
import { backendEnv, newToken, startSatellite, waitFor, withBackend } from './helpers';

const TOKEN = 'client-token-jobs-0123456789';

describe('command poll as a background job', () => {
  it('polls through the job system at the pace the backend asks for, and shows its runs and errors', async () => {
    await withBackend(async ({ fake, dir, apps }) => {
      fake.nextPollInterval = 2;
      const app = await startSatellite(backendEnv(fake, dir, newToken(fake)));
      apps.push(app);
      const base = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
      fake.introspection.set(TOKEN, { active: true, sub: 'user-1', team_id: 'team-a', scope: 'mcp:read', client_id: 'test' });
      const jobs = async (): Promise<Map<string, JobStatus>> => {
        const res = await fetch(`${base}/api/status/jobs`, { headers: { authorization: `Bearer ${TOKEN}` } });
        expect(res.status).toBe(200);
        return new Map(((await res.json()) as { jobs: JobStatus[] }).jobs.map((j) => [j.name, j]));
      };
      const polls = (): number => fake.requests.filter((r) => r.path.endsWith('/commands')).length;

      await waitFor('connection', () => app.backend?.state === 'connected');
      const cmd = fake.queueCommand({ command_type: 'health_check', payload: {} });
      await waitFor('the command to be polled and executed', () => fake.results.some((r) => r.command_id === cmd.id), 4_000);

      // The job ticks every 500 ms, but polls only when the backend's 2 s hint has passed.
      const start = { polls: polls(), runs: app.jobs.list().find((j) => j.name === 'backend-command-poll')!.runs };
      await new Promise((r) => setTimeout(r, 2_500));
      const status = (await jobs()).get('backend-command-poll')!;
      expect(status).toMatchObject({ schedule: 'every 500 ms', failures: 0 });
      expect(status.runs - start.runs).toBeGreaterThanOrEqual(3);
      expect(polls() - start.polls).toBeGreaterThanOrEqual(1);
      expect(polls() - start.polls).toBeLessThanOrEqual(2);
      expect(status.lastRunAt).toBeDefined();
      expect(status.lastDurationMs).toBeGreaterThanOrEqual(0);

      // A failed poll is the job's failure, with the reason.
      fake.fail('commands', { status: 503 }, 1);
      await waitFor('a failed poll run', () => (app.jobs.list().find((j) => j.name === 'backend-command-poll')!.failures) >= 1, 4_000);
      expect((await jobs()).get('backend-command-poll')!.lastError).toMatch(/command poll failed: .*503.*next try in \d+ ms/);
    });
  });
});
