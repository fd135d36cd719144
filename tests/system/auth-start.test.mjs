// auth answers correctly from its very first request: a replica of its own is started
// and asked before anything else, so an unknown user's login meets the stand-in hash at
// once (401, the same answer as a wrong password) and a good login gets its token.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { spawn } from 'node:child_process';
import { urls, getJson, waitFor, internalApiKey, freePort, binaryPath } from './lib/stack.js';

let seq = 0;
const unique = (p) => `${p}${process.pid % 10000}_${Date.now() % 100000}_${seq++}`;
const randomIp = () => `10.${crypto.randomInt(256)}.${crypto.randomInt(256)}.${crypto.randomInt(1, 255)}`;

// Failing logins carry a client address of their own (vouched for by the internal
// key), so the per-client limit never sees them together.
const login = (base, username, password, failing = false) => getJson(`${base}/api/auth/login`, {
  json: { username, password },
  headers: failing ? { 'x-forwarded-for': randomIp(), 'x-internal-api-key': internalApiKey } : {},
});

async function firstAnswer(url) {
  for (let i = 0; i < 2000; i++) {
    try {
      return await fetch(url);
    } catch {
      await new Promise((r) => setTimeout(r, 5));
    }
  }
  throw new Error(`${url} never answered`);
}

describe('auth right after start', () => {
  let child;
  const user = { username: unique('early'), password: 'first-fold-of-day' };

  before(async () => {
    await waitFor(`${urls.auth}/health`, { status: 200, timeoutMs: 20000 });
    const res = await getJson(`${urls.auth}/api/auth/register`, {
      json: { ...user, email: `${user.username}@example.com` },
      headers: { 'x-internal-api-key': internalApiKey },
    });
    assert.equal(res.status, 200, res.text);
  });

  after(async () => {
    if (child && child.exitCode === null) {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    }
  });

  test('first requests: unknown user and wrong password 401, right password 200', async () => {
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    child = spawn(binaryPath('auth'), [], {
      env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'warn' },
      stdio: 'ignore',
    });
    // the listener is up: ask at once, all together, before anything else
    await firstAnswer(`${base}/.well-known/jwks.json`);
    const [unknown, unknownByEmail, wrong, right] = await Promise.all([
      login(base, unique('nobody'), 'whatever-password', true),
      login(base, `${unique('nobody')}@example.com`, 'whatever-password', true),
      login(base, user.username, 'not-the-password', true),
      login(base, user.username, user.password),
    ]);
    for (const res of [unknown, unknownByEmail, wrong]) {
      assert.equal(res.status, 401, res.text);
      assert.equal(res.body.error, 'Invalid credentials');
      assert.match(res.headers.get('www-authenticate'), /^Bearer/);
    }
    assert.equal(unknown.text.replaceAll(/"path":"[^"]*"/g, ''), wrong.text.replaceAll(/"path":"[^"]*"/g, ''));
    assert.equal(right.status, 200, right.text);
    assert.equal(right.body.token_type, 'Bearer');
    const status = await getJson(`${base}/api/auth/status`, { token: right.body.access_token });
    assert.equal(status.body.authenticated, true);
    assert.equal(status.body.username, user.username);
  });
});
