// Signing-key rotation with two auth replicas behind a round-robin balancer,
// following the documented procedure (docs/auth.md): publish the next key,
// switch to it replica by replica, retire the old one. Shoppers keep logging
// in, checking their session and voting through the frontend the whole time:
// no request may fail and no session may be cleared.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import * as jose from 'jose';
import { urls, stack, getJson, waitFor, varDir, binaryPath, built, freePort } from './lib/stack.js';

const frontend = urls.frontend;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** A balancer that sends each request to the next replica, and to the other when one refuses. */
function startBalancer(port, backends) {
  let next = 0;
  const stats = { requests: 0, failovers: 0, failed: 0 };
  const forward = (req, body, res, tries) => {
    const target = backends[next++ % backends.length];
    const up = http.request({ host: '127.0.0.1', port: target.port, path: req.url, method: req.method,
      headers: { ...req.headers, connection: 'close' }, agent: false }, (r) => {
      res.writeHead(r.statusCode, r.headers);
      r.pipe(res);
    });
    up.on('error', (err) => {
      if (tries > 1 && ['ECONNREFUSED', 'ECONNRESET'].includes(err.code)) {
        stats.failovers++;
        forward(req, body, res, tries - 1);
        return;
      }
      stats.failed++;
      res.writeHead(502).end();
    });
    up.end(body);
  };
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => { stats.requests++; forward(req, Buffer.concat(chunks), res, 4); });
  });
  return new Promise((resolve) => server.listen(port, '127.0.0.1', () => resolve({ server, stats })));
}

/** One auth replica: a craft-auth process on its own port with the stack's environment plus `env`. */
class Replica {
  constructor(name) { this.name = name; }

  async start(env) {
    this.port ??= await freePort();
    this.output = '';
    this.child = spawn(binaryPath('auth'), [], {
      env: { ...process.env, PORT: String(this.port), HOST: '127.0.0.1', DEPLOYMENT_ENVIRONMENT: 'development', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child.stdout.on('data', (d) => { this.output = (this.output + d).slice(-4000); });
    this.child.stderr.on('data', (d) => { this.output = (this.output + d).slice(-4000); });
    this.exited = new Promise((resolve) => this.child.on('exit', (code) => resolve(code)));
    await waitFor(`http://127.0.0.1:${this.port}/health`, { timeoutMs: 20_000 });
  }

  async stop() {
    if (!this.child || this.child.exitCode !== null) return;
    this.child.kill('SIGTERM');
    const code = await this.exited;
    assert.equal(code, 0, `${this.name} exited ${code}\n${this.output}`);
  }

  async restart(env) {
    await this.stop();
    await this.start(env);
  }

  async kids() {
    return (await getJson(`http://127.0.0.1:${this.port}/.well-known/jwks.json`)).body.keys.map((k) => k.kid);
  }
}

/** A shopper: logs in through the frontend, then checks the session and votes, in a loop. */
class Shopper {
  constructor(user, origamiId, problems) {
    Object.assign(this, { user, origamiId, problems, kids: new Set(), requests: 0 });
  }

  note(what, res) {
    this.requests++;
    const cleared = (res.headers.getSetCookie?.() ?? []).some((c) => /^jwt_token=;/.test(c) || /^jwt_token=[^;]*;.*Max-Age=0/i.test(c));
    if (cleared) this.problems.push(`${what}: the session cookie was cleared`);
  }

  async login() {
    const res = await fetch(`${frontend}/auth/login`, {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: this.user.username, password: this.user.password }),
      signal: AbortSignal.timeout(10_000),
    });
    this.note('login', res);
    await res.arrayBuffer();
    if (res.status !== 200) { this.problems.push(`login: ${res.status}`); return; }
    const jwt = res.headers.getSetCookie().find((c) => c.startsWith('jwt_token='));
    this.token = jwt.split(';')[0].slice('jwt_token='.length);
    this.cookie = `jwt_token=${this.token}; username=${this.user.username}`;
    this.kids.add(jose.decodeProtectedHeader(this.token).kid);
  }

  async round(add) {
    const status = await fetch(`${frontend}/auth/status`, { headers: { cookie: this.cookie }, signal: AbortSignal.timeout(10_000) });
    this.note('status', status);
    const body = await status.json();
    if (status.status !== 200 || body.authenticated !== true) {
      this.problems.push(`status: ${status.status} ${JSON.stringify(body)} (kid ${jose.decodeProtectedHeader(this.token).kid})`);
    }
    const vote = await fetch(`${frontend}/api/origamis/${this.origamiId}/vote`, {
      method: add ? 'POST' : 'DELETE', headers: { cookie: this.cookie, accept: 'application/json' },
      signal: AbortSignal.timeout(10_000),
    });
    this.note('vote', vote);
    const text = await vote.text();
    if (vote.status !== 200) this.problems.push(`vote: ${vote.status} ${text}`);
  }

  /** Until `stop.now`: a fresh login every few rounds, so new tokens meet the new key. */
  async run(stop) {
    await this.login();
    for (let i = 1; !stop.now; i++) {
      await this.round(i % 2 === 1);
      if (i % 4 === 0) await this.login();
      await sleep(25);
    }
  }
}

describe('key rotation with two auth replicas', { skip: !built('auth') && 'auth is not built' }, () => {
  const dir = path.join(varDir, `rotation-${process.pid}`);
  const replicas = [new Replica('auth-a'), new Replica('auth-b')];
  let balancer, oldKid, newKid, users, origamiId;
  const problems = [];

  const current = { RSA_PRIVATE_KEY_PATH: process.env.RSA_PRIVATE_KEY_PATH, RSA_PUBLIC_KEY_PATH: process.env.RSA_PUBLIC_KEY_PATH };

  before(async () => {
    fs.mkdirSync(path.join(dir, 'next'), { recursive: true });
    fs.mkdirSync(path.join(dir, 'previous'), { recursive: true });
    oldKid = (await getJson(`${urls.auth}/.well-known/jwks.json`)).body.keys[0].kid;
    newKid = `${oldKid}-next-${process.pid}`;
    const pair = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
    fs.writeFileSync(path.join(dir, 'private.pem'), pair.privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
    fs.writeFileSync(path.join(dir, 'public.pem'), pair.publicKey.export({ type: 'spki', format: 'pem' }));
    Object.assign(current, { PRODUCT_KEY_ID: oldKid });

    for (const r of replicas) await r.start(current);
    const port = await freePort();
    balancer = await startBalancer(port, replicas);
    const authUrl = `http://127.0.0.1:${port}`;
    // verifiers look at the balanced auth and refresh their key sets every second
    const env = { AUTH_SERVICE_URL: authUrl, JWKS_REFRESH_SECONDS: '1' };
    for (const svc of ['product', 'frontend']) {
      stack('svc-stop', svc);
      stack('svc-start', svc, { env });
    }
    origamiId = (await getJson(`${urls.product}/api/products`)).body[0].id;
    users = [];
    for (let i = 0; i < 3; i++) {
      const username = `rotator${process.pid % 10000}x${Date.now() % 100000}x${i}`;
      const user = { username, email: `${username}@example.com`, password: 'paper-crane-fold' };
      const res = await getJson(`${frontend}/auth/register`, { json: user });
      assert.equal(res.status, 201, res.text);
      users.push(user);
    }
  });

  after(async () => {
    for (const r of replicas) await r.stop().catch(() => {});
    balancer?.server.close();
    for (const svc of ['product', 'frontend']) {
      stack('svc-stop', svc);
      stack('svc-start', svc);
    }
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('publish, switch, retire: no request fails and nobody is logged out', async () => {
    const stop = { now: false };
    const shoppers = users.map((u) => new Shopper(u, origamiId, problems));
    const running = shoppers.map((s) => s.run(stop));
    const pause = () => sleep(2500); // more than the verifiers' refresh interval

    try {
      await pause();
      // 1. publish: every replica lists the next key; nobody signs with it yet
      fs.copyFileSync(path.join(dir, 'public.pem'), path.join(dir, 'next', `${newKid}.pem`));
      for (const r of replicas) {
        await r.restart({ ...current, RSA_NEXT_KEYS_DIR: path.join(dir, 'next') });
        assert.deepEqual(await r.kids(), [oldKid, newKid]);
      }
      await pause();
      // 2. switch, one replica at a time: while they differ, tokens of both keys are issued
      fs.copyFileSync(process.env.RSA_PUBLIC_KEY_PATH, path.join(dir, 'previous', `${oldKid}.pem`));
      const switched = {
        RSA_PRIVATE_KEY_PATH: path.join(dir, 'private.pem'), RSA_PUBLIC_KEY_PATH: path.join(dir, 'public.pem'),
        PRODUCT_KEY_ID: newKid, RSA_PREVIOUS_KEYS_DIR: path.join(dir, 'previous'),
      };
      await replicas[0].restart(switched);
      assert.deepEqual(await replicas[0].kids(), [newKid, oldKid]);
      await pause();
      await replicas[1].restart(switched);
      await pause();
      // 3. retire (after the old tokens' lifetime): fresh logins carry only the new key
      for (const s of shoppers) await s.login();
      const retired = { ...switched, RSA_PREVIOUS_KEYS_DIR: '' };
      for (const r of replicas) {
        await r.restart(retired);
        assert.deepEqual(await r.kids(), [newKid]);
      }
      await pause();
    } finally {
      stop.now = true;
      await Promise.all(running);
    }
    assert.deepEqual(problems, []);
    assert.equal(balancer.stats.failed, 0);
    // the run did cover the rotation: both keys were met, and replicas were restarted under load
    const kids = new Set(shoppers.flatMap((s) => [...s.kids]));
    assert.ok(kids.has(oldKid) && kids.has(newKid), `kids seen: ${[...kids].join(', ')}`);
    assert.ok(shoppers.every((s) => s.requests > 20), shoppers.map((s) => s.requests).join(','));
  });
});
