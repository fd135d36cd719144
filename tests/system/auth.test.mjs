// Black-box tests of the auth service: the real binary over real PostgreSQL and
// Redis. Tokens are judged by the independent `jose` library both ways.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import * as jose from 'jose';
import { urls, stack, getJson, waitFor, varDir, internalApiKey, built, repoRoot } from './lib/stack.js';

const base = urls.auth;
const audience = process.env.JWT_AUDIENCE || 'craftista';
const keyDir = path.join(varDir, 'keys');
let seq = 0;
const unique = (p) => `${p}${process.pid % 10000}_${Date.now() % 100000}_${seq++}`;

function register(user, key = internalApiKey) {
  return getJson(`${base}/api/auth/register`, {
    json: user, headers: key === null ? {} : { 'x-internal-api-key': key },
  });
}

// Logins that are meant to fail carry their own client address (vouched for by
// the internal key), so the per-client limit of one test never blocks another.
function login(username, password, clientIp, opts = {}) {
  const headers = clientIp ? { 'x-forwarded-for': clientIp, 'x-internal-api-key': internalApiKey } : {};
  return getJson(`${base}/api/auth/login`, { json: { username, password }, headers, ...opts });
}

async function newUser(prefix = 'user') {
  const username = unique(prefix);
  const user = { username, email: `${username}@example.com`, password: 'folded-paper-42' };
  const res = await register(user);
  assert.equal(res.status, 200, res.text);
  return user;
}

function assertError(res, status) {
  assert.equal(res.status, status, res.text);
  assert.equal(res.body.status_code, status);
  assert.equal(typeof res.body.error, 'string');
  assert.equal(typeof res.body.path, 'string');
}

const randomIp = () => `10.${crypto.randomInt(256)}.${crypto.randomInt(256)}.${crypto.randomInt(1, 255)}`;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const loginWindow = Number(process.env.LOGIN_WINDOW_SECONDS || 300);
const maxPerAccount = Number(process.env.LOGIN_MAX_FAILURES_PER_ACCOUNT || 50);

// The value of an unlabelled metric on auth's /metrics (NaN when absent).
async function metric(name) {
  const text = await (await fetch(`${base}/metrics`)).text();
  const m = text.match(new RegExp(`^${name} (\\S+)$`, 'm'));
  return m ? Number(m[1]) : NaN;
}

// Restarts auth with extra settings; restoreAuth() brings back the stack's own.
async function restartAuth(env = {}) {
  stack('svc-stop', 'auth');
  stack('svc-start', 'auth', { env });
  // the restart closed our pooled keep-alive connections: let the client notice
  await waitFor(`${base}/health`);
}
const restoreAuth = () => restartAuth();

// A registration vouched for by the internal key on behalf of `clientIp`.
function registerFrom(user, clientIp, opts = {}) {
  return getJson(`${base}/api/auth/register`, {
    json: user, headers: { 'x-internal-api-key': internalApiKey, 'x-forwarded-for': clientIp }, ...opts,
  });
}

describe('auth service', () => {
  let jwks;
  before(async () => {
    await waitFor(`${base}/health`, { status: 200, timeoutMs: 20000 });
    jwks = jose.createRemoteJWKSet(new URL(`${base}/.well-known/jwks.json`));
  });

  describe('register', () => {
    test('creates a user: 200 {message, user_id, username}', async () => {
      const username = unique('reg');
      const res = await register({ username, email: `${username}@example.com`, password: 'origami-fold' });
      assert.equal(res.status, 200);
      assert.equal(res.body.username, username);
      assert.ok(Number.isInteger(res.body.user_id) && res.body.user_id > 0);
      assert.equal(typeof res.body.message, 'string');
    });

    test('needs the internal API key (missing or wrong: 401)', async () => {
      const user = { username: unique('nokey'), email: 'nokey@example.com', password: 'origami-fold' };
      assertError(await register(user, null), 401);
      assertError(await register(user, 'wrong-key-wrong-key'), 401);
      assertError(await register(user, internalApiKey + 'x'), 401);
    });

    test('duplicates are 409, case-insensitively, naming the field', async () => {
      const user = await newUser('dup');
      let res = await register({ ...user, username: user.username.toUpperCase(), email: `other_${user.email}` });
      assertError(res, 409);
      assert.equal(res.body.field, 'username');
      res = await register({ ...user, username: unique('dup2'), email: user.email.toUpperCase() });
      assertError(res, 409);
      assert.equal(res.body.field, 'email');
    });

    test('20 racing registrations of one name: one 200, nineteen 409, no 500', async () => {
      const username = unique('race');
      const results = await Promise.all(Array.from({ length: 20 }, (_, i) =>
        register({ username, email: `${username}.${i}@example.com`, password: 'origami-fold' })));
      const statuses = results.map((r) => r.status).sort();
      assert.deepEqual(statuses, [200, ...Array(19).fill(409)]);
    });

    // The queue counts a hash as completed just after its job has answered, so a
    // reading right after an answer may be one short: read until it has caught up.
    const completedAtLeast = async (min) => {
      for (let i = 0; i < 100; i++) {
        const v = await metric('craft_auth_bcrypt_register_completed_total');
        if (v >= min) return v;
        await sleep(20);
      }
      return metric('craft_auth_bcrypt_register_completed_total');
    };

    test('a taken username or email: 409 at once, without hashing a password', async () => {
      const before = await metric('craft_auth_bcrypt_register_completed_total');
      const user = await newUser('taken');
      const hashes = await completedAtLeast(before + 1);
      assert.ok(hashes >= 1, `craft_auth_bcrypt_register_completed_total ${hashes}`);
      let res = await register({ ...user, username: user.username.toUpperCase(), email: `other_${user.email}` });
      assertError(res, 409);
      assert.equal(res.body.field, 'username');
      res = await register({ ...user, username: unique('taken2') });
      assertError(res, 409);
      assert.equal(res.body.field, 'email');
      assert.equal(await metric('craft_auth_bcrypt_register_completed_total'), hashes);
      await newUser('taken3');
      assert.equal(await completedAtLeast(hashes + 1), hashes + 1);
    });

    const long = (n, c = 'a') => c.repeat(n);
    const cases = [
      ['username too short', { username: 'ab' }, 'username'],
      ['username too long', { username: long(51) }, 'username'],
      ['username with a space', { username: 'ori gami' }, 'username'],
      ['username with a quote', { username: "o'neil" }, 'username'],
      ['username missing', { username: undefined }, 'username'],
      ['username not a string', { username: 42 }, 'username'],
      ['email without @', { email: 'paper.example.com' }, 'email'],
      ['email without domain dot', { email: 'paper@example' }, 'email'],
      ['email too long', { email: `${long(95)}@ex.com` }, 'email'],
      ['email with two @', { email: 'a@b@example.com' }, 'email'],
      ['password too short', { password: 'short7!' }, 'password'],
      ['password over 72 bytes', { password: long(73) }, 'password'],
      ['password over 72 bytes in UTF-8', { password: long(37, 'é') }, 'password'],
      ['password missing', { password: undefined }, 'password'],
    ];
    for (const [name, override, field] of cases) {
      test(`400 for ${name}`, async () => {
        const username = unique('v');
        const user = { username, email: `${username}@example.com`, password: 'origami-fold', ...override };
        const res = await register(user);
        assertError(res, 400);
        assert.equal(res.body.field, field);
        assert.match(res.body.error, new RegExp(field));
      });
    }

    test('400 for malformed JSON, 415 for a form body', async () => {
      const bad = await getJson(`${base}/api/auth/register`, {
        method: 'POST', body: '{"username":', headers: { 'content-type': 'application/json', 'x-internal-api-key': internalApiKey } });
      assertError(bad, 400);
      const form = await getJson(`${base}/api/auth/register`, {
        method: 'POST', body: 'username=a', headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-internal-api-key': internalApiKey } });
      assertError(form, 415);
    });

    test('exactly 72 bytes is accepted and is the whole password', async () => {
      const username = unique('p72');
      const password = 'p'.repeat(72);
      assert.equal((await register({ username, email: `${username}@example.com`, password })).status, 200);
      assert.equal((await login(username, password)).status, 200);
      // 71 of the 72 bytes must not log in
      assert.equal((await login(username, password.slice(0, 71), randomIp())).status, 401);
    });
  });

  describe('login and tokens', () => {
    test('by username and by email; jose verifies the token against our JWKS', async () => {
      const user = await newUser('jose');
      for (const name of [user.username, user.email, user.email.toUpperCase()]) {
        const res = await login(name, user.password);
        assert.equal(res.status, 200, res.text);
        assert.deepEqual(Object.keys(res.body).sort(), ['access_token', 'expires_in', 'token_type']);
        assert.equal(res.body.token_type, 'Bearer');
        assert.equal(res.body.expires_in, 3600);
        const { payload, protectedHeader } = await jose.jwtVerify(res.body.access_token, jwks, {
          issuer: base, audience, algorithms: ['RS256'],
        });
        assert.equal(protectedHeader.alg, 'RS256');
        assert.equal(protectedHeader.typ, 'JWT');
        const keys = (await getJson(`${base}/.well-known/jwks.json`)).body.keys;
        assert.equal(protectedHeader.kid, keys[0].kid);
        assert.equal(payload.sub, user.username);
        assert.equal(payload.role, 'user');
        assert.equal(payload.exp - payload.iat, 3600);
        assert.ok(Math.abs(payload.iat - Date.now() / 1000) < 120);
        assert.equal(payload.aud, audience);
        assert.match(payload.jti, /^[A-Za-z0-9_-]{16,}$/);
      }
    });

    test('every token has its own jti', async () => {
      const user = await newUser('jti');
      const a = await login(user.username, user.password);
      const b = await login(user.username, user.password);
      assert.notEqual(jose.decodeJwt(a.body.access_token).jti, jose.decodeJwt(b.body.access_token).jti);
    });

    test('wrong password and unknown user: the same 401', async () => {
      const user = await newUser('wrong');
      const ip = randomIp();
      const wrong = await login(user.username, 'not-the-password', ip);
      const unknown = await login(unique('ghost'), 'not-the-password', ip);
      assertError(wrong, 401);
      assertError(unknown, 401);
      assert.equal(wrong.body.error, 'Invalid credentials');
      assert.deepEqual(wrong.body, unknown.body);
    });

    test('missing fields: 400', async () => {
      assertError(await getJson(`${base}/api/auth/login`, { json: { username: 'x' } }), 400);
      assertError(await getJson(`${base}/api/auth/login`, { json: { password: 'x' } }), 400);
    });

    test('failures from one client never block the owner elsewhere; that client gets 429 with Retry-After, then recovers', async () => {
      const user = await newUser('brute');
      const attacker = randomIp();
      for (let i = 0; i < 5; i++) assertError(await login(user.username, `bad-${i}-password`, attacker), 401);
      const blocked = await login(user.username, user.password, attacker);
      assertError(blocked, 429);
      const wait = Number(blocked.headers.get('retry-after'));
      assert.ok(wait >= 1 && wait <= loginWindow, `Retry-After ${wait}`);
      // the owner, from another client, logs in at once
      assert.equal((await login(user.username, user.password, randomIp())).status, 200);
      assert.equal((await login(user.username, user.password)).status, 200);
      // another account is not affected either
      const other = await newUser('bystander');
      assert.equal((await login(other.username, other.password, attacker)).status, 200);
      // after the wait the right password works from that client too, and clears its count
      await sleep(wait * 1000 + 200);
      assert.equal((await login(user.username, user.password, attacker)).status, 200);
      assertError(await login(user.username, 'bad-again-password', attacker), 401);
    });

    test('waits grow with each further failure, capped at the window', async () => {
      const user = await newUser('grow');
      const ip = randomIp();
      for (let i = 0; i < 5; i++) assertError(await login(user.username, `bad-${i}-password`, ip), 401);
      const waits = [];
      for (let round = 0; round < 4; round++) {
        const blocked = await login(user.username, user.password, ip);
        assertError(blocked, 429);
        const wait = Number(blocked.headers.get('retry-after'));
        waits.push(wait);
        await sleep(wait * 1000 + 200);
        // past the wait one more try is let through; it fails and the next wait is longer
        assertError(await login(user.username, `bad-round-${round}`, ip), 401);
      }
      const expected = [1, 2, 4, 8].map((w) => Math.min(w, loginWindow));
      assert.deepEqual(waits, expected, `waits ${waits.join(', ')}`);
    });

    test('failures across many clients past the per-account threshold slow everyone down', async () => {
      const user = await newUser('many');
      // five clients at a time, each under its own (account, client) threshold
      for (let i = 0; i < maxPerAccount; i += 5) {
        const batch = Array.from({ length: Math.min(5, maxPerAccount - i) }, (_, k) =>
          login(user.username, `bad-${i + k}-password`, randomIp()));
        for (const res of await Promise.all(batch)) assertError(res, 401);
      }
      const blocked = await login(user.username, user.password, randomIp());
      assertError(blocked, 429);
      const wait = Number(blocked.headers.get('retry-after'));
      assert.ok(wait >= 1 && wait <= loginWindow, `Retry-After ${wait}`);
      assertError(await login(user.username, user.password), 429);
      await sleep(wait * 1000 + 200);
      assert.equal((await login(user.username, user.password, randomIp())).status, 200);
    });

    test('a successful login clears the (account, client) counter', async () => {
      const user = await newUser('reset');
      const ip = randomIp();
      for (let i = 0; i < 4; i++) assertError(await login(user.username, 'bad-password-x', ip), 401);
      assert.equal((await login(user.username, user.password, ip)).status, 200);
      for (let i = 0; i < 4; i++) assertError(await login(user.username, 'bad-password-y', ip), 401);
      assert.equal((await login(user.username, user.password, ip)).status, 200);
    });

    test('one counter per account whatever the spelling: Kelvin sign, dotted capital I, case, email', async () => {
      // U+212A folds to 'k' and U+0130 to 'i' under PostgreSQL's lower() in UTF-8 locales
      const user = await newUser('kiki');
      const kelvin = user.username.replaceAll('k', '\u212A');
      const dotted = user.username.replaceAll('i', '\u0130');
      const both = user.username.replaceAll('k', '\u212A').replaceAll('i', '\u0130');
      // failures under one spelling block every other spelling from that client
      const spellings = [user.username, user.username.toUpperCase(), user.email, user.email.toUpperCase()];
      for (const failWith of spellings) {
        const ip = randomIp();
        for (let i = 0; i < 5; i++) assertError(await login(failWith, `bad-${i}-password`, ip), 401);
        for (const name of [kelvin, dotted, both, ...spellings]) {
          const res = await login(name, user.password, ip);
          assert.notEqual(res.status, 200, `${JSON.stringify(name)} logged in after failures as ${failWith}`);
        }
        for (const name of spellings) assertError(await login(name, user.password, ip), 429);
      }
      // names no account can have never log in, even with the right password
      for (const name of [kelvin, dotted, both]) {
        const res = await login(name, user.password, randomIp());
        assertError(res, 401);
        assert.equal(res.body.error, 'Invalid credentials');
      }
    });

    test('impossible identifiers: the same 401 without a bcrypt, counted against the client', async () => {
      const ip = randomIp();
      const ghost = await login(unique('ghost'), 'not-the-password', ip);
      const checks = await metric('craft_auth_bcrypt_completed_total');
      assert.ok(checks >= 1, `craft_auth_bcrypt_completed_total ${checks}`);
      let last;
      for (let i = 0; i < 19; i++) {
        last = await login(`ghost\u212A${i}\u00e9`, 'not-the-password', ip);
        assertError(last, 401);
        assert.deepEqual(last.body, ghost.body);
      }
      assert.equal(await metric('craft_auth_bcrypt_completed_total'), checks);
      // the client is now at its threshold across accounts
      const user = await newUser('impossible');
      assertError(await login(user.username, user.password, ip), 429);
      assert.equal((await login(user.username, user.password, randomIp())).status, 200);
    });

    test('repeated failures from one client across accounts: 429', async () => {
      const ip = randomIp();
      let status = 0;
      for (let i = 0; i < 25 && status !== 429; i++) status = (await login(unique('spray'), 'spray-password', ip)).status;
      assert.equal(status, 429);
      const user = await newUser('fromspray');
      assert.equal((await login(user.username, user.password, ip)).status, 429);
      assert.equal((await login(user.username, user.password, randomIp())).status, 200);
    });

    test('with Redis down logins still work (the limiter fails open)', async () => {
      const user = await newUser('noredis');
      stack('redis-stop');
      try {
        assert.equal((await login(user.username, user.password)).status, 200);
        assertError(await login(user.username, 'bad-password-z', randomIp()), 401);
        const health = await getJson(`${base}/health`);
        assert.equal(health.status, 200);
        assert.equal(health.body.cache, 'down');
      } finally {
        stack('redis-start');
      }
      // the circuit breaker lets a probe through after its cool-down
      for (let i = 0; i < 50 && (await getJson(`${base}/health`)).body.cache !== 'up'; i++) {
        await new Promise((r) => setTimeout(r, 100));
      }
      assert.equal((await getJson(`${base}/health`)).body.cache, 'up');
    });

    test('JWKS keeps answering while a login storm fills the bcrypt queue', async () => {
      const user = await newUser('storm');
      const order = [];
      const logins = Array.from({ length: 24 }, (_, i) =>
        login(user.username, i % 2 ? user.password : 'storm-wrong-pass', randomIp()).then((r) => { order.push('login'); return r; }));
      await new Promise((r) => setTimeout(r, 20));
      const jwksRes = await getJson(`${base}/.well-known/jwks.json`).then((r) => { order.push('jwks'); return r; });
      const health = await getJson(`${base}/health`).then((r) => { order.push('health'); return r; });
      await Promise.all(logins);
      assert.equal(jwksRes.status, 200);
      assert.equal(health.status, 200);
      assert.ok(order.indexOf('health') < order.lastIndexOf('login'), `order: ${order.join(',')}`);
    });
  });

  describe('status (userinfo) and our verifier', () => {
    let privateKey, kid, user, token;
    before(async () => {
      privateKey = crypto.createPrivateKey(fs.readFileSync(path.join(keyDir, 'private.pem')));
      kid = (await getJson(`${base}/.well-known/jwks.json`)).body.keys[0].kid;
      user = await newUser('status');
      token = (await login(user.username, user.password)).body.access_token;
    });
    const status = (t) => getJson(`${base}/api/auth/status`, t === undefined ? {} : { headers: { authorization: `Bearer ${t}` } });
    const sign = (claims, header = {}) => new jose.SignJWT({ role: 'user', ...claims })
      .setProtectedHeader({ alg: 'RS256', typ: 'JWT', kid, ...header })
      .sign(privateKey);
    const now = () => Math.floor(Date.now() / 1000);
    const good = () => ({ sub: user.username, iss: base, aud: audience, iat: now(), exp: now() + 600 });

    test('a valid token: authenticated, username, role, expires_at', async () => {
      const res = await status(token);
      assert.equal(res.status, 200);
      assert.equal(res.body.authenticated, true);
      assert.equal(res.body.username, user.username);
      assert.equal(res.body.role, 'user');
      assert.equal(res.body.expires_at, jose.decodeJwt(token).exp);
    });

    test('no token: {authenticated:false}', async () => {
      const res = await status();
      assert.equal(res.status, 200);
      assert.deepEqual(res.body, { authenticated: false });
    });

    test('a token signed by jose with our key and the right claims is accepted', async () => {
      const res = await status(await sign(good()));
      assert.equal(res.body.authenticated, true);
    });

    const b64 = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');
    const forgeries = {
      'alg none': async () => `${b64({ alg: 'none', typ: 'JWT', kid })}.${b64(good())}.`,
      'HS256 keyed with our public key': async () => {
        const pem = fs.readFileSync(path.join(keyDir, 'public.pem'));
        return new jose.SignJWT(good()).setProtectedHeader({ alg: 'HS256', typ: 'JWT', kid }).sign(new Uint8Array(pem));
      },
      expired: async () => sign({ ...good(), iat: now() - 7200, exp: now() - 3600 }),
      'tampered payload': async () => {
        const [h, , s] = token.split('.');
        const claims = jose.decodeJwt(token);
        return `${h}.${b64({ ...claims, role: 'admin' })}.${s}`;
      },
      'tampered signature': async () => token.slice(0, -4) + (token.endsWith('AAAA') ? 'BBBB' : 'AAAA'),
      'wrong issuer': async () => sign({ ...good(), iss: 'https://evil.example' }),
      'wrong audience': async () => sign({ ...good(), aud: 'someone-else' }),
      'unknown kid': async () => sign(good(), { kid: 'no-such-key' }),
      'signed by another key': async () => {
        const { privateKey: other } = await jose.generateKeyPair('RS256');
        return new jose.SignJWT(good()).setProtectedHeader({ alg: 'RS256', typ: 'JWT', kid }).sign(other);
      },
      'garbage': async () => 'not.a.token',
    };
    for (const [name, forge] of Object.entries(forgeries)) {
      test(`rejects a token with ${name}`, async () => {
        const res = await status(await forge());
        assert.equal(res.status, 200);
        assert.deepEqual(res.body, { authenticated: false });
      });
    }
  });

  describe('discovery', () => {
    test('JWKS: RSA signing keys, base64url n/e, kid first', async () => {
      const res = await getJson(`${base}/.well-known/jwks.json`);
      assert.equal(res.status, 200);
      assert.ok(res.body.keys.length >= 1);
      for (const k of res.body.keys) {
        assert.equal(k.kty, 'RSA');
        assert.equal(k.use, 'sig');
        assert.equal(k.alg, 'RS256');
        assert.match(k.n, /^[A-Za-z0-9_-]+$/);
        assert.match(k.e, /^[A-Za-z0-9_-]+$/);
        assert.ok(Buffer.from(k.n, 'base64url').length >= 256, 'RSA >= 2048');
        assert.equal(k.d, undefined);
      }
      assert.equal(res.body.keys[0].kid, process.env.PRODUCT_KEY_ID || 'craftista-key-1');
    });

    test('OpenID configuration consistent with BASE_URL', async () => {
      const res = await getJson(`${base}/.well-known/openid-configuration`);
      assert.equal(res.status, 200);
      const d = res.body;
      assert.equal(d.issuer, base);
      assert.equal(d.jwks_uri, `${base}/.well-known/jwks.json`);
      assert.equal(d.authorization_endpoint, `${base}/api/auth/login`);
      assert.equal(d.token_endpoint, `${base}/api/auth/login`);
      assert.equal(d.userinfo_endpoint, `${base}/api/auth/status`);
      assert.deepEqual(d.response_types_supported, ['code', 'token']);
      assert.deepEqual(d.subject_types_supported, ['public']);
      assert.deepEqual(d.id_token_signing_alg_values_supported, ['RS256']);
      assert.equal((await getJson(d.jwks_uri)).status, 200);
    });

    test('home page and health', async () => {
      const home = await fetch(`${base}/`);
      assert.equal(home.status, 200);
      assert.match(await home.text(), /Authentication service/);
      const health = await getJson(`${base}/health`);
      assert.equal(health.status, 200);
      assert.equal(health.body.status, 'healthy');
      assert.equal(health.body.cache, 'up');
    });
  });

  describe('registration under load', () => {
    after(restoreAuth);

    test('registrations per client are limited: 429 with Retry-After; other clients go on', async () => {
      await restartAuth({ REGISTER_MAX_PER_CLIENT: '3', REGISTER_WINDOW_SECONDS: '60' });
      const ip = randomIp();
      const fresh = () => {
        const username = unique('perip');
        return { username, email: `${username}@example.com`, password: 'origami-fold' };
      };
      for (let i = 0; i < 3; i++) assert.equal((await registerFrom(fresh(), ip)).status, 200);
      const refused = await registerFrom(fresh(), ip);
      assertError(refused, 429);
      const wait = Number(refused.headers.get('retry-after'));
      assert.ok(wait >= 1 && wait <= 60, `Retry-After ${wait}`);
      assert.equal((await registerFrom(fresh(), randomIp())).status, 200);
    });

    test('a flood of registrations leaves logins their share of the hashing', async () => {
      await restartAuth({ BCRYPT_COST: '12', BCRYPT_REGISTER_WORKERS: '1', BCRYPT_REGISTER_QUEUE: '16' });
      const user = await newUser('flooded');
      const flood = Array.from({ length: 80 }, () => {
        const username = unique('flood');
        return registerFrom({ username, email: `${username}@example.com`, password: 'origami-fold' },
          randomIp(), { timeoutMs: 120_000 });
      });
      await sleep(100);
      // a generous bound, not a measure of speed: behind the flood it would wait for all of it
      const res = await login(user.username, user.password, randomIp(), { timeoutMs: 5000 }).catch((err) => {
        assert.fail(`the login did not answer within 5 s during the flood (${err.name})`);
      });
      assert.equal(res.status, 200, res.text);
      const results = await Promise.all(flood);
      for (const r of results) {
        assert.ok([200, 503].includes(r.status), `${r.status} ${r.text}`);
        if (r.status === 503) assert.ok(Number(r.headers.get('retry-after')) >= 1);
      }
      assert.ok(results.some((r) => r.status === 503), 'the registration queue never filled');
      assert.ok(await metric('craft_auth_bcrypt_register_rejected_total') >= 1);
    });
  });

  describe('key rotation and administrator bootstrap', () => {
    const rotated = path.join(varDir, 'keys-rotated');
    after(async () => {
      stack('svc-stop', 'auth');
      stack('svc-start', 'auth');
      await waitFor(`${base}/health`);
      fs.rmSync(rotated, { recursive: true, force: true });
    });

    test('a token signed before a rotation still verifies after it; new tokens use the new key', async () => {
      const user = await newUser('rotate');
      const before = (await login(user.username, user.password)).body.access_token;
      const oldKid = jose.decodeProtectedHeader(before).kid;

      fs.mkdirSync(path.join(rotated, 'previous'), { recursive: true });
      fs.copyFileSync(path.join(keyDir, 'public.pem'), path.join(rotated, 'previous', `${oldKid}.pem`));
      const pair = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
      fs.writeFileSync(path.join(rotated, 'private.pem'), pair.privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
      fs.writeFileSync(path.join(rotated, 'public.pem'), pair.publicKey.export({ type: 'spki', format: 'pem' }));
      stack('svc-stop', 'auth');
      stack('svc-start', 'auth', { env: {
        RSA_PRIVATE_KEY_PATH: path.join(rotated, 'private.pem'),
        RSA_PUBLIC_KEY_PATH: path.join(rotated, 'public.pem'),
        RSA_PREVIOUS_KEYS_DIR: path.join(rotated, 'previous'),
        PRODUCT_KEY_ID: 'craftista-key-rotated',
        ADMIN_USERNAME: 'chief_folder', ADMIN_PASSWORD: 'admin-paper-crane',
      } });
      // the restart closed our pooled keep-alive connections: let the client notice
      await waitFor(`${base}/health`);

      const keys = (await getJson(`${base}/.well-known/jwks.json`)).body.keys;
      assert.deepEqual(keys.map((k) => k.kid), ['craftista-key-rotated', oldKid]);
      const fresh = jose.createRemoteJWKSet(new URL(`${base}/.well-known/jwks.json`));
      await jose.jwtVerify(before, fresh, { issuer: base, audience });
      assert.equal((await getJson(`${base}/api/auth/status`, { token: before })).body.authenticated, true);

      const after = (await login(user.username, user.password)).body.access_token;
      assert.equal(jose.decodeProtectedHeader(after).kid, 'craftista-key-rotated');
      await jose.jwtVerify(after, fresh, { issuer: base, audience });
    });

    test('ADMIN_USERNAME/ADMIN_PASSWORD create an administrator at start', async () => {
      let res;
      for (let i = 0; i < 50; i++) {
        res = await login('chief_folder', 'admin-paper-crane');
        if (res.status === 200) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      assert.equal(res.status, 200, res.text);
      assert.equal(jose.decodeJwt(res.body.access_token).role, 'admin');
    });
  });

  describe('configuration outside development', () => {
    const binary = path.join(process.env.BUILD_DIR ? path.resolve(repoRoot, process.env.BUILD_DIR) : path.join(repoRoot, 'build'), 'services/auth/craft-auth');
    const run = (env) => spawnSync(binary, [], {
      env: { PATH: process.env.PATH, PORT: '0', HOST: '127.0.0.1', DEPLOYMENT_ENVIRONMENT: 'production', POSTGRES_PASSWORD: 'not-default', ...env },
      encoding: 'utf8', timeout: 20000,
    });

    test('refuses the default INTERNAL_API_KEY, naming it', { skip: !built('auth') }, () => {
      const res = run({});
      assert.notEqual(res.status, 0);
      assert.match(res.stderr, /INTERNAL_API_KEY/);
    });

    test('refuses missing key files instead of generating them', { skip: !built('auth') }, () => {
      const missing = path.join(varDir, 'no-such-dir', 'private.pem');
      const res = run({ INTERNAL_API_KEY: crypto.randomBytes(24).toString('hex'), RSA_PRIVATE_KEY_PATH: missing });
      assert.notEqual(res.status, 0);
      assert.match(res.stderr, /RSA_PRIVATE_KEY_PATH/);
      assert.equal(fs.existsSync(missing), false);
    });
  });
});
