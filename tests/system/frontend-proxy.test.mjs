// The frontend behind a load balancer: with TRUSTED_PROXIES, the client auth
// limits logins for is the address the trusted proxy reported, so one abusive
// browser never locks out everyone behind the same Ingress; without it, what
// a client writes in X-Forwarded-For is ignored.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { urls, stack, getJson, waitFor } from './lib/stack.js';

const base = urls.frontend;
const windowSeconds = Number(process.env.LOGIN_WINDOW_SECONDS || 300);
let seq = 0;
const uniqueName = (p) => `${p}${process.pid % 10000}x${Date.now() % 100000}x${seq++}`;

function restartFrontend(env) {
  stack('svc-stop', 'frontend');
  stack('svc-start', 'frontend', { env });
}

// A login through the frontend, as if a proxy in front of it forwarded `xff`.
const login = (username, password, xff) =>
  getJson(`${base}/auth/login`, { json: { username, password }, headers: xff ? { 'x-forwarded-for': xff } : {} });

async function newUser() {
  const username = uniqueName('proxied');
  const user = { username, email: `${username}@example.com`, password: 'paper-crane-fold' };
  const res = await getJson(`${base}/auth/register`, { json: user });
  assert.equal(res.status, 201, res.text);
  return user;
}

// Fail logins of unknown names from `xff` until the per-client limit answers 429.
async function exhaustClient(xff) {
  for (let i = 0; i < 60; i++) {
    const res = await login(uniqueName('nobody'), 'wrong-password-1', xff);
    if (res.status === 429) return res;
    assert.equal(res.status, 401, res.text);
  }
  assert.fail(`no 429 for ${xff} after 60 failures`);
}

const waitWindow = () => new Promise((r) => setTimeout(r, (windowSeconds + 1) * 1000));

describe('frontend behind trusted proxies', { skip: windowSeconds > 30 && 'needs a short LOGIN_WINDOW_SECONDS' }, () => {
  after(async () => {
    restartFrontend({});
    await waitFor(`${base}/health`);
  });

  describe('TRUSTED_PROXIES covers the peer', () => {
    before(async () => {
      restartFrontend({ TRUSTED_PROXIES: '10.0.0.0/8, 127.0.0.1/32' });
      await waitFor(`${base}/health`);
    });

    test('failures from one client never block another client behind the same proxy', async () => {
      const victim = await newUser();
      const blocked = await exhaustClient('203.0.113.7');
      assert.ok(Number(blocked.headers.get('retry-after')) >= 1);
      // the abuser stays blocked, even with a real account's password
      assert.equal((await login(victim.username, victim.password, '203.0.113.7')).status, 429);
      // another browser behind the same proxy logs in
      const ok = await login(victim.username, victim.password, '198.51.100.9');
      assert.equal(ok.status, 200, ok.text);
      // what the client itself wrote left of the proxy's entry is not believed,
      // and trusted hops right of it are skipped
      assert.equal((await login(victim.username, victim.password, '198.51.100.9, 203.0.113.7')).status, 429);
      assert.equal((await login(victim.username, victim.password, '203.0.113.7, 10.1.2.3')).status, 429);
      assert.equal((await login(victim.username, victim.password, '203.0.113.7, 198.51.100.10')).status, 200);
      await waitWindow();
    });
  });

  describe('TRUSTED_PROXIES does not cover the peer', () => {
    before(async () => {
      restartFrontend({ TRUSTED_PROXIES: '10.0.0.0/8' });
      await waitFor(`${base}/health`);
    });

    test('X-Forwarded-For from an untrusted peer is ignored: a client cannot pick a fresh bucket', async () => {
      const victim = await newUser();
      await exhaustClient('203.0.113.8');
      const spoofed = await login(victim.username, victim.password, '198.51.100.11');
      assert.equal(spoofed.status, 429, spoofed.text);
      await waitWindow();
      assert.equal((await login(victim.username, victim.password, '198.51.100.11')).status, 200);
    });
  });

  test('a bad TRUSTED_PROXIES stops the start, naming the setting', () => {
    stack('svc-stop', 'frontend');
    assert.throws(() => stack('svc-start', 'frontend', { env: { TRUSTED_PROXIES: '10.0.0.0/8, 10.0.0.1/8' } }),
      (err) => /TRUSTED_PROXIES/.test(err.message));
  });
});
