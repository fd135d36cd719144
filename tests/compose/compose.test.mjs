// End-to-end test of docker-compose.yml in containers (scripts/compose-test.sh brings
// the stack up and passes its name, compose command and published ports). Everything
// is reached through the ports published on 127.0.0.1 or through the Docker CLI.
//
//   CT_COMPOSE    the compose command with its project and files, e.g.
//                 "docker-compose --env-file F -p P -f docker-compose.yml -f ..."
//   CT_PROJECT    the compose project name
//   FRONTEND_URL  the frontend, TRACES_URL the trace store's query port (Jaeger's 16686)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';

const env = process.env;
for (const v of ['CT_COMPOSE', 'CT_PROJECT', 'FRONTEND_URL', 'TRACES_URL']) {
  if (!env[v]) throw new Error(`${v} is not set: run scripts/compose-test.sh`);
}
const project = env.CT_PROJECT;
const frontend = env.FRONTEND_URL;
const tag = env.CRAFTISTA_TAG ?? 'dev';
const SERVICES = ['auth', 'product', 'recommendation', 'frontend'];
const BUILT = [...SERVICES, 'migrate'];
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function docker(...args) {
  return execFileSync('docker', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
}

function compose(...args) {
  const [cmd, ...base] = env.CT_COMPOSE.split(' ');
  return execFileSync(cmd, [...base, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
}

/** The project's containers, by compose service name: docker inspect's objects. */
function containers() {
  const ids = docker('ps', '-aq', '--filter', `label=com.docker.compose.project=${project}`).split('\n').filter(Boolean);
  if (!ids.length) return {};
  const all = JSON.parse(docker('inspect', ...ids));
  return Object.fromEntries(all.map((c) => [c.Config.Labels['com.docker.compose.service'], c]));
}

const healthOf = (c) => c.State.Health?.Status ?? c.State.Status;

async function getJson(url, { json, headers = {}, method } = {}) {
  const res = await fetch(url, {
    method: method ?? (json ? 'POST' : 'GET'),
    headers: { ...(json ? { 'content-type': 'application/json' } : {}), accept: 'application/json', ...headers },
    body: json ? JSON.stringify(json) : undefined,
    signal: AbortSignal.timeout(10000),
  });
  const text = await res.text();
  let body;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  return { status: res.status, headers: res.headers, text, body };
}

test('every container comes up: health checks pass, the migration finishes', async () => {
  const want = ['postgres', 'redis', ...SERVICES];
  const deadline = Date.now() + 240_000;
  let seen = {};
  while (Date.now() < deadline) {
    const cs = containers();
    seen = Object.fromEntries(Object.entries(cs).map(([n, c]) => [n, healthOf(c)]));
    const mig = cs.migrate?.State;
    if (mig && mig.Status === 'exited' && mig.ExitCode !== 0) assert.fail(`migrate exited ${mig.ExitCode}`);
    if (want.every((n) => seen[n] === 'healthy') && mig?.Status === 'exited') break;
    if (want.some((n) => seen[n] === 'unhealthy' || seen[n] === 'exited')) break;
    await sleep(1000);
  }
  for (const n of want) assert.equal(seen[n], 'healthy', `${n}: ${JSON.stringify(seen)}`);
  const cs = containers();
  assert.equal(cs.migrate.State.ExitCode, 0);
  for (const n of ['otel-collector', 'jaeger']) assert.equal(cs[n]?.State.Status, 'running', n);
});

test('the Craftista containers are hardened: read-only, no capabilities, non-root, no-new-privileges', () => {
  const cs = containers();
  for (const name of BUILT) {
    const c = cs[name];
    assert.ok(c, `${name} has a container`);
    assert.equal(c.HostConfig.ReadonlyRootfs, true, `${name}: read-only root filesystem`);
    assert.deepEqual(c.HostConfig.CapDrop, ['ALL'], `${name}: capabilities dropped`);
    assert.ok(c.HostConfig.SecurityOpt?.includes('no-new-privileges:true'), `${name}: no-new-privileges`);
    assert.equal(c.Config.User, '10001:10001', `${name}: user`);
    if (name === 'migrate') continue;
    // What the kernel says of the running service process (PID 1 in the container).
    const status = fs.readFileSync(`/proc/${c.State.Pid}/status`, 'utf8');
    const field = (k) => status.match(new RegExp(`^${k}:\\s*(.*)$`, 'm'))[1].split(/\s+/);
    assert.deepEqual(field('Uid'), ['10001', '10001', '10001', '10001'], `${name}: uid`);
    assert.equal(field('Gid')[0], '10001', `${name}: gid`);
    assert.equal(BigInt(`0x${field('CapEff')[0]}`), 0n, `${name}: effective capabilities`);
    assert.equal(BigInt(`0x${field('CapBnd')[0]}`), 0n, `${name}: bounding capabilities`);
    assert.equal(field('NoNewPrivs')[0], '1', `${name}: no_new_privs`);
    assert.equal(c.Path, `/usr/local/bin/craft-${name}`, `${name}: entrypoint`);
  }
});

test('the images default to production: without DEPLOYMENT_ENVIRONMENT a default secret is refused', () => {
  for (const name of BUILT) {
    const image = `craftista/${name}:${tag}`;
    const cfg = JSON.parse(docker('image', 'inspect', image))[0].Config;
    assert.ok(cfg.Env.includes('DEPLOYMENT_ENVIRONMENT=production'), `${image}: ${cfg.Env}`);
    assert.equal(cfg.User, '10001:10001');
  }
  const args = ['--read-only', '--cap-drop', 'ALL', '--network', 'none'];
  for (const name of SERVICES) {
    const image = `craftista/${name}:${tag}`;
    const box = `${project}-prod-${name}`;
    const prod = spawnSync('docker', ['run', '--rm', '--name', box, ...args, image], { encoding: 'utf8', timeout: 60_000 });
    spawnSync('docker', ['rm', '-f', box], { stdio: 'ignore' }); // only if it outlived the timeout
    assert.notEqual(prod.status, 0, `${name} started with its default secret`);
    assert.match(prod.stderr + prod.stdout, /is still the development default/, name);
  }
});

test('the same images told they are in development get past that check', async () => {
  for (const name of SERVICES) {
    const id = docker('run', '-d', '--read-only', '--cap-drop', 'ALL', '--network', 'none',
      '-e', 'DEPLOYMENT_ENVIRONMENT=development', `craftista/${name}:${tag}`);
    try {
      // Until it listens, or stops for another reason (auth: no key folder to write).
      let log = '';
      for (let i = 0; i < 300; i++) {
        const out = spawnSync('docker', ['logs', id], { encoding: 'utf8' });
        log = out.stdout + out.stderr;
        if (/"msg":"(listening|cannot start)"/.test(log)) break;
        await sleep(100);
      }
      assert.match(log, /"msg":"(listening|cannot start)"/, name);
      assert.doesNotMatch(log, /is still the development default/, name);
    } finally {
      docker('rm', '-f', id);
    }
  }
});

test('through the frontend: register, log in, vote and see the count', async () => {
  const username = `ct${process.pid}x${Date.now() % 1_000_000}`;
  const password = 'paper-crane-fold';
  const reg = await getJson(`${frontend}/auth/register`, { json: { username, email: `${username}@example.com`, password } });
  assert.equal(reg.status, 201, reg.text);
  const login = await fetch(`${frontend}/auth/login`, {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username, password }), signal: AbortSignal.timeout(10000),
  });
  assert.equal(login.status, 200);
  const cookie = login.headers.getSetCookie().map((c) => c.split(';')[0]).filter((c) => !c.endsWith('=')).join('; ');
  assert.match(cookie, /jwt_token=/);
  const before = await getJson(`${frontend}/api/origamis/2/votes`, { headers: { cookie } });
  assert.equal(before.status, 200, before.text);
  assert.equal(before.body.voted, false);
  const vote = await getJson(`${frontend}/api/origamis/2/vote`, { method: 'POST', headers: { cookie } });
  assert.equal(vote.status, 200, vote.text);
  assert.equal(vote.body.new_vote_count, before.body.votes + 1);
  const after = await getJson(`${frontend}/api/origamis/2/votes`, { headers: { cookie } });
  assert.deepEqual(after.body, { origami_id: 2, votes: before.body.votes + 1, voted: true });
  const home = await fetch(`${frontend}/`, { signal: AbortSignal.timeout(10000) });
  assert.equal(home.status, 200);
});

test('spans of the four services reach the trace store through the collector', async () => {
  const deadline = Date.now() + 60_000;
  let names = [];
  while (Date.now() < deadline) {
    const res = await getJson(`${env.TRACES_URL}/api/services`);
    names = res.body?.data ?? [];
    if (SERVICES.every((s) => names.includes(s))) break;
    await fetch(`${frontend}/`).then((r) => r.arrayBuffer()).catch(() => {});
    await sleep(1000);
  }
  assert.deepEqual(SERVICES.filter((s) => !names.includes(s)), [], `services seen: ${names}`);
});

/** One GET on a new connection: {ok, status, code, started, bytes}. */
function probe(url) {
  const started = Date.now();
  return new Promise((resolve) => {
    let bytes = 0;
    const req = http.get(url, { agent: false, timeout: 10_000 }, (res) => {
      res.on('data', (c) => { bytes += c.length; });
      res.on('end', () => resolve({ ok: res.statusCode === 200, status: res.statusCode, started, ended: Date.now(), bytes }));
      res.on('error', (e) => resolve({ ok: false, code: e.code ?? e.message, started, bytes }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (e) => resolve({ ok: false, code: e.code ?? e.message, started, bytes }));
  });
}

test('SIGTERM under load: the frontend answers what it accepted, refuses the rest, exits 0', async (t) => {
  const c = containers().frontend;
  const results = [];
  let stopAt = Infinity;
  let refusedSince = 0;
  const until = Date.now() + 60_000;
  const worker = async () => {
    for (let i = 0; i < 5000 && Date.now() < until; i++) {
      const r = await probe(`${frontend}/`);
      results.push(r);
      if (!r.ok && r.started > stopAt) refusedSince ||= Date.now();
      if (refusedSince && Date.now() - refusedSince > 1000) return;
    }
  };
  const workers = Array.from({ length: 8 }, worker);
  await sleep(1500);
  stopAt = Date.now();
  // docker stop sends the image's STOPSIGNAL (SIGTERM) and waits for the exit.
  docker('stop', '-t', '30', c.Id);
  const stoppedAt = Date.now();
  await Promise.all(workers);
  const state = JSON.parse(docker('inspect', c.Id))[0].State;
  assert.equal(state.ExitCode, 0, `frontend exit code ${state.ExitCode}`);
  assert.equal(state.OOMKilled, false);
  const logs = spawnSync('docker', ['logs', c.Id], { encoding: 'utf8' });
  const log = logs.stdout + logs.stderr;
  assert.match(log, /"msg":"shutting down","signal":"SIGTERM"/);
  // The service's own count: nothing it had accepted was left unanswered.
  assert.doesNotMatch(log, /stopping with requests in flight/);
  assert.ok(results.filter((r) => r.ok && r.started < stopAt).length >= 8, 'too few requests before the stop');
  // Every answer is a whole 200; every failure is a connection refused before any
  // byte came back: ECONNREFUSED, or a reset of a connection the closed listener never
  // accepted (through Docker's userland proxy a refusal shows as that too).
  const refused = (r) => ['ECONNREFUSED', 'ECONNRESET'].includes(r.code) && r.bytes === 0 && r.status === undefined;
  assert.deepEqual(results.filter((r) => !r.ok && !refused(r)), [], 'failed other than by refusal');
  assert.ok(results.some((r) => r.started >= stopAt && refused(r)), 'the frontend never stopped accepting');
  const drained = results.filter((r) => r.ok && r.started < stoppedAt && r.ended > stopAt).length;
  t.diagnostic(`${results.length} requests, ${results.filter((r) => !r.ok).length} refused, ` +
    `${drained} answered while stopping`);
});

test('docker compose down -v leaves no container, volume or network of the project', () => {
  compose('down', '-v', '--remove-orphans');
  const label = `label=com.docker.compose.project=${project}`;
  assert.equal(docker('ps', '-aq', '--filter', label), '');
  assert.equal(docker('volume', 'ls', '-q', '--filter', label), '');
  assert.equal(docker('network', 'ls', '-q', '--filter', label), '');
  const named = (kind) => docker(kind, 'ls', '--format', '{{.Name}}').split('\n').filter((n) => n.startsWith(`${project}_`));
  assert.deepEqual(named('volume'), []);
  assert.deepEqual(named('network'), []);
});
