// Clean shutdown: SIGTERM makes a service stop accepting, answer or refuse what
// it holds, and exit 0 within its drain timeout — also while logins wait for
// bcrypt, and while auth's administrator bootstrap waits for a database that is
// down. Each case runs its own auth process beside the stack.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import net from 'node:net';
import { binaryPath, built, freePort, getJson, internalApiKey, waitFor } from './lib/stack.js';

const DRAIN_S = 10; // the server's drain timeout

/** Starts craft-auth on a free port with the stack's environment plus `env`. */
async function startAuth(env) {
  const port = await freePort();
  const child = spawn(binaryPath('auth'), [], {
    env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', DEPLOYMENT_ENVIRONMENT: 'development', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (d) => { output += d; });
  child.stderr.on('data', (d) => { output += d; });
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  const url = `http://127.0.0.1:${port}`;
  await waitFor(`${url}/.well-known/jwks.json`, { timeoutMs: 20_000 });
  return { child, url, exited, output: () => output };
}

/** Sends SIGTERM and resolves to {code, signal, seconds}; kills it after `limitS`. */
async function terminate(proc, limitS) {
  const t0 = Date.now();
  proc.child.kill('SIGTERM');
  const timer = setTimeout(() => proc.child.kill('SIGKILL'), limitS * 1000);
  const res = await proc.exited;
  clearTimeout(timer);
  return { ...res, seconds: (Date.now() - t0) / 1000 };
}

describe('shutdown', { skip: !built('auth') && 'auth is not built' }, () => {
  test('SIGTERM while logins wait for bcrypt: every request answered, exit 0', async () => {
    // one slow worker and a long queue: most logins are still waiting at SIGTERM
    const auth = await startAuth({ BCRYPT_COST: '13', BCRYPT_WORKERS: '1', BCRYPT_QUEUE: '100' });
    const logins = Array.from({ length: 64 }, (_, i) =>
      getJson(`${auth.url}/api/auth/login`, {
        json: { username: `nobody_${process.pid}_${i}`, password: 'not-the-password' },
        headers: { 'x-forwarded-for': `10.77.0.${i + 1}`, 'x-internal-api-key': internalApiKey },
        timeoutMs: 60_000,
      }).then((r) => r.status, (err) => `error: ${err.cause?.code ?? err.message}`));
    await new Promise((r) => setTimeout(r, 500));
    const res = await terminate(auth, DRAIN_S + 20);
    const statuses = await Promise.all(logins);
    assert.equal(res.signal, null, `killed by ${res.signal}\n${auth.output().slice(-2000)}`);
    assert.equal(res.code, 0, auth.output().slice(-2000));
    assert.ok(res.seconds <= DRAIN_S + 1, `took ${res.seconds} s`);
    // each login got an answer: checked (401; those accepted are served for most of the
    // drain) or, near its end, refused for the shutdown (503)
    for (const s of statuses) assert.ok(s === 401 || s === 503, `statuses: ${statuses.join(',')}`);
    assert.ok(statuses.includes(401), `statuses: ${statuses.join(',')}`);
  });

  test('SIGTERM while the administrator waits for a database that is down: exit 0 at once', async () => {
    const closed = await freePort(); // nothing listens there
    const auth = await startAuth({
      POSTGRES_PORT: String(closed), DATABASE_URL: '',
      ADMIN_USERNAME: 'chief_folder', ADMIN_PASSWORD: 'admin-paper-crane',
    });
    const health = await getJson(`${auth.url}/health`);
    assert.equal(health.status, 503); // the database really is unreachable
    await new Promise((r) => setTimeout(r, 1500)); // the bootstrap is retrying by now
    const res = await terminate(auth, DRAIN_S + 60);
    assert.equal(res.signal, null, `killed by ${res.signal}\n${auth.output().slice(-2000)}`);
    assert.equal(res.code, 0, auth.output().slice(-2000));
    assert.ok(res.seconds <= DRAIN_S, `took ${res.seconds} s`);
  });

  test('SIGTERM with a collector that never answers: the last spans get 2 s, not the export timeout', async () => {
    // accepts every connection and never answers
    const sockets = [];
    const hung = net.createServer((sock) => { sockets.push(sock); sock.on('error', () => {}); });
    const port = await freePort();
    await new Promise((r) => hung.listen(port, '127.0.0.1', r));
    try {
      const auth = await startAuth({
        OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}`,
        OTEL_EXPORTER_OTLP_TIMEOUT: '60000',
        OTEL_BSP_SCHEDULE_DELAY: '60000', // everything is still queued at SIGTERM
      });
      for (let i = 0; i < 5; i++) {
        const traceparent = `00-${'ab'.repeat(15)}${String(i).padStart(2, '0')}-${'cd'.repeat(8)}-01`;
        assert.equal((await fetch(`${auth.url}/.well-known/jwks.json`, { headers: { traceparent } })).status, 200);
      }
      const res = await terminate(auth, DRAIN_S + 60);
      assert.equal(res.signal, null, `killed by ${res.signal} after ${res.seconds} s\n${auth.output().slice(-2000)}`);
      assert.equal(res.code, 0, auth.output().slice(-2000));
      assert.ok(sockets.length >= 1, 'the flush tried the collector');
      assert.ok(res.seconds <= DRAIN_S + 1, `took ${res.seconds} s`);
    } finally {
      for (const sock of sockets) sock.destroy();
      hung.close();
    }
  });
});
