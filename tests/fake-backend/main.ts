// `npm run fake-backend`: the fake DeployStack backend by hand. Prints the env to point a
// satellite at it; control it over HTTP on the same port under /_control (see README lines below).
import { createServer } from 'node:http';
import { FakeBackend } from './server';

const port = Number(process.env.FAKE_BACKEND_PORT ?? 3000);
const controlPort = Number(process.env.FAKE_BACKEND_CONTROL_PORT ?? 3010); // 3001 is the satellite's own default
const token = process.env.FAKE_REGISTRATION_TOKEN ?? 'deploystack_satellite_global_fake-registration-token';

async function main(): Promise<void> {
  const fake = new FakeBackend({ port, registrationTokens: [token] });
  fake.nextPollInterval = 2; // like the backend's "immediate" mode, so commands act quickly by hand
  await fake.start();
  const control = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      let body: any = {};
      try {
        body = chunks.length ? JSON.parse(Buffer.concat(chunks).toString('utf8')) : {};
      } catch {
        res.writeHead(400).end('body must be JSON\n');
        return;
      }
      const reply = (v: unknown) => res.writeHead(200, { 'content-type': 'application/json' }).end(`${JSON.stringify(v, null, 2)}\n`);
      const path = req.url ?? '/';
      if (req.method === 'PUT' && path === '/config') {
        fake.config = body;
        return reply({ ok: true });
      }
      if (req.method === 'POST' && path === '/commands') return reply(fake.queueCommand(body));
      if (req.method === 'POST' && path === '/fail') {
        if (body.failure) fake.fail(body.route, body.failure, body.times ?? Infinity);
        else fake.clearFailure(body.route);
        return reply({ ok: true });
      }
      if (req.method === 'POST' && path === '/tokens') {
        fake.addRegistrationToken(body.token);
        return reply({ ok: true });
      }
      if (req.method === 'GET' && path === '/received') {
        return reply({ satellite_id: fake.satelliteId, registrations: fake.registrations, heartbeats: fake.heartbeats.slice(-5), results: fake.results, events: fake.events.slice(-100), pending_commands: fake.pendingCommands });
      }
      res.writeHead(404).end('routes: PUT /config, POST /commands, POST /fail {route, failure?, times?}, POST /tokens {token}, GET /received\n');
    });
  });
  await new Promise<void>((r) => control.listen(controlPort, '127.0.0.1', () => r()));
  process.stdout.write([
    `fake backend on ${fake.url}, control on http://127.0.0.1:${controlPort}`,
    'point a satellite at it:',
    `  DEPLOYSTACK_BACKEND_URL=${fake.url} DEPLOYSTACK_SATELLITE_NAME=fake-satellite-01 DEPLOYSTACK_REGISTRATION_TOKEN=${token} npm run dev`,
    `  curl -X PUT localhost:${controlPort}/config -d '{"mcp_servers":{...}}'`,
    `  curl -X POST localhost:${controlPort}/commands -d '{"command_type":"configure","payload":{}}'`,
    ''
  ].join('\n'));
}

main().catch((err: unknown) => {
  process.stderr.write(`fake backend: ${(err as Error).message}\n`);
  process.exit(1);
});
