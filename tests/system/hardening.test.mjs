// Smaller hardening points, black-box: access-log fields that keep invalid UTF-8
// (escaped, never blanked), the vote redirect that never leaves the site, 415 for
// bodies that are not JSON, HSTS outside development, Redis AUTH.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { urls, logPath, getJson, internalApiKey, binaryPath, built, freePort, waitFor, repoRoot, varDir } from './lib/stack.js';

/** Sends raw bytes as a request and resolves to the answer's status line. */
function rawRequest(base, bytes) {
  const u = new URL(base);
  return new Promise((resolve, reject) => {
    const sock = net.connect(Number(u.port), u.hostname, () => sock.end(bytes));
    let data = '';
    sock.setTimeout(5000, () => sock.destroy(new Error('timeout')));
    sock.on('data', (d) => { data += d.toString('latin1'); });
    sock.on('end', () => resolve(data.split('\r\n')[0]));
    sock.on('error', reject);
  });
}

/** The service's log lines (JSON) that satisfy `pred`, waiting briefly for them. */
async function logLines(name, pred) {
  for (let i = 0; i < 50; i++) {
    const lines = fs.readFileSync(logPath(name), 'utf8').split('\n').filter((l) => l.startsWith('{'))
      .map((l) => { try { return JSON.parse(l); } catch { return null; } }).filter((o) => o && pred(o));
    if (lines.length) return lines;
    await new Promise((r) => setTimeout(r, 100));
  }
  return [];
}

describe('access log keeps fields that are not valid UTF-8', () => {
  test('a path with invalid bytes is logged escaped with every other field', async () => {
    const tag = `t${Date.now()}`;
    const req = Buffer.concat([Buffer.from(`GET /${tag}/`), Buffer.from([0xff, 0xc3, 0x28]), Buffer.from('%FE HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')]);
    const status = await rawRequest(urls.product, req);
    assert.match(status, /^HTTP\/1\.1 404/);
    const [line] = await logLines('product', (o) => o.msg === 'request' && typeof o.path === 'string' && o.path.includes(tag));
    assert.ok(line, 'the request line was logged');
    assert.equal(line.path, `/${tag}/\\xFF\\xC3(\\xFE`);
    assert.equal(line.method, 'GET');
    assert.equal(line.status, 404);
    assert.equal(line.log_error, undefined);
  });

  test('a method with invalid bytes keeps its field', async () => {
    const tag = `m${Date.now()}`;
    const req = Buffer.concat([Buffer.from('P'), Buffer.from([0xd8]), Buffer.from(`ST /${tag} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`)]);
    const status = await rawRequest(urls.product, req);
    assert.match(status, /^HTTP\/1\.1 [45]\d\d/);
    const since = new Date(Date.now() - 2000).toISOString();
    const lines = await logLines('product', (o) => o.msg === 'request' && o.ts >= since
      && ((typeof o.path === 'string' && o.path.includes(tag)) || o.log_error !== undefined));
    assert.ok(lines.length > 0, 'the request was logged');
    assert.equal(lines[0].path, `/${tag}`);
    assert.equal(lines[0].method, 'P\\xD8ST');
    assert.equal(lines[0].log_error, undefined);
  });
});

describe('JSON APIs refuse other bodies with 415', () => {
  const cases = [
    ['auth register', `${urls.auth}/api/auth/register`],
    ['auth login', `${urls.auth}/api/auth/login`],
    ['frontend login', `${urls.frontend}/auth/login`],
    ['frontend register', `${urls.frontend}/auth/register`],
  ];
  for (const [name, url] of cases) {
    test(`${name}: text/plain and no Content-Type are 415 with the JSON error shape`, async () => {
      const key = { 'x-internal-api-key': internalApiKey };
      for (const headers of [{ 'content-type': 'text/plain', ...key }, { ...key }]) {
        const res = await getJson(url, { method: 'POST', headers, body: Buffer.from('{"username":"a","password":"b"}') });
        assert.equal(res.status, 415, `${JSON.stringify(headers)}: ${res.text}`);
        assert.equal(typeof res.body?.error, 'string');
      }
    });
  }
});

describe('the vote redirect never leaves the site', () => {
  const base = urls.frontend;
  const host = new URL(base).host;

  /** A no-JavaScript vote form post with `referer`, from our own origin. */
  function formVote(cookie, referer) {
    const u = new URL(base);
    return new Promise((resolve, reject) => {
      const req = http.request({
        host: u.hostname, port: u.port, path: '/api/origamis/5/vote', method: 'POST',
        headers: { cookie, origin: base, referer, 'content-type': 'application/x-www-form-urlencoded', accept: 'text/html' },
      }, (res) => { res.resume(); res.on('end', () => resolve({ status: res.statusCode, location: res.headers.location })); });
      req.on('error', reject);
      req.end('_csrf=x');
    });
  }

  test('only a plain local path of our own origin is kept; every off-site shape goes home', async () => {
    const username = `redir${process.pid % 10000}x${Date.now() % 100000}`;
    const user = { username, email: `${username}@example.com`, password: 'paper-crane-fold' };
    assert.equal((await getJson(`${base}/auth/register`, { json: user })).status, 201);
    const login = await fetch(`${base}/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(user) });
    const cookie = login.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
    const kept = [[`${base}/?page=2`, '/?page=2#origami-5'], [`${base}/login#x`, '/login#origami-5'], [`${base}/a/b%5Cc`, '/a/b%5Cc#origami-5']];
    for (const [referer, want] of kept) {
      const res = await formVote(cookie, referer);
      assert.equal(res.status, 303, referer);
      assert.equal(res.location, want, referer);
    }
    const offsite = [
      `http://${host}/\\evil.example/`, `http://${host}//evil.example/`, `http://${host}/\\\\evil.example`,
      `http://${host}/%09/evil.example`.replace('%09', '\t'), `http://evil.example/`, `https://evil.example/${host}/`,
      `http://${host}.evil.example/`, `http://${host}@evil.example/`, 'javascript:alert(1)//', `//${host}/x`, '/\\evil.example',
      `http://${host}`, `http://${host}?next=//evil.example`,
    ];
    for (const referer of offsite) {
      let res;
      try {
        res = await formVote(cookie, referer);
      } catch {
        continue; // a header value the HTTP client itself refuses to send
      }
      assert.equal(res.status, 303, referer);
      assert.equal(res.location, '/#origami-5', JSON.stringify(referer));
    }
  });
});

describe('production unless told otherwise', () => {
  const bare = { PATH: process.env.PATH, PORT: '0', HOST: '127.0.0.1', POSTGRES_PORT: '1', REDIS_PORT: '1' };

  for (const [svc, secret] of [['auth', 'INTERNAL_API_KEY'], ['frontend', 'INTERNAL_API_KEY'], ['product', 'POSTGRES_PASSWORD'], ['recommendation', 'POSTGRES_PASSWORD']]) {
    test(`${svc} with no DEPLOYMENT_ENVIRONMENT refuses its default ${secret}`, { skip: !built(svc) }, () => {
      const res = spawnSync(binaryPath(svc), [], { env: bare, encoding: 'utf8', timeout: 20_000, cwd: repoRoot });
      assert.equal(res.signal, null, `${svc} started with default secrets (killed after the timeout)`);
      assert.notEqual(res.status, 0, `${svc} started with default secrets`);
      assert.match(res.stderr, new RegExp(secret));
    });
  }

  test('Strict-Transport-Security on every answer outside development, none in development', { skip: !built('recommendation') }, async () => {
    const port = await freePort();
    const child = spawn(binaryPath('recommendation'), [], {
      env: { ...bare, PORT: String(port), DEPLOYMENT_ENVIRONMENT: 'production', POSTGRES_PASSWORD: 'not-the-default-one', DATABASE_URL: '' },
      stdio: 'ignore',
    });
    try {
      const home = await waitFor(`http://127.0.0.1:${port}/`);
      assert.equal(home.headers.get('strict-transport-security'), 'max-age=31536000; includeSubDomains');
      const health = await fetch(`http://127.0.0.1:${port}/health`); // 503: PostgreSQL is not there
      assert.equal(health.status, 503);
      assert.ok(health.headers.get('strict-transport-security'));
    } finally {
      child.kill('SIGTERM');
    }
    const dev = await fetch(`${urls.product}/`);
    assert.equal(dev.headers.get('strict-transport-security'), null);
  });
});

describe('Redis AUTH', { skip: !built('product') }, () => {
  const password = `redis-${process.pid}-${Date.now()}`;
  let redisPort, pidFile, dir;

  const redisCli = (...args) => spawnSync('redis-cli', ['-h', '127.0.0.1', '-p', String(redisPort), '--no-auth-warning', ...args], { encoding: 'utf8' });

  before(async () => {
    redisPort = await freePort();
    dir = path.join(varDir, `redis-auth-${process.pid}`);
    fs.mkdirSync(dir, { recursive: true });
    pidFile = path.join(dir, 'redis.pid');
    const res = spawnSync('redis-server', ['--port', String(redisPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no',
      '--daemonize', 'yes', '--pidfile', pidFile, '--logfile', path.join(dir, 'redis.log'), '--requirepass', password], { encoding: 'utf8' });
    assert.equal(res.status, 0, res.stderr);
    for (let i = 0; i < 50 && !redisCli('-a', password, 'ping').stdout.includes('PONG'); i++) await new Promise((r) => setTimeout(r, 100));
  });

  after(async () => {
    // Redis writes its log until it has exited: wait for that before removing the folder.
    let pid = 0;
    try { pid = Number(fs.readFileSync(pidFile, 'utf8')); process.kill(pid, 'SIGTERM'); } catch { pid = 0; /* already gone */ }
    const alive = () => { try { process.kill(pid, 0); return true; } catch { return false; } };
    for (let i = 0; pid && i < 100 && alive(); i++) await new Promise((r) => setTimeout(r, 50));
    if (pid && alive()) process.kill(pid, 'SIGKILL');
    fs.rmSync(dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
  });

  /** A product replica on its own port against the password-protected Redis. */
  async function withProduct(redisPassword, fn) {
    const port = await freePort();
    const log = path.join(dir, `product-${port}.log`);
    const out = fs.openSync(log, 'w');
    const child = spawn(binaryPath('product'), [], {
      env: { ...process.env, PORT: String(port), REDIS_PORT: String(redisPort), REDIS_PASSWORD: redisPassword },
      stdio: ['ignore', out, out], cwd: repoRoot,
    });
    fs.closeSync(out);
    try {
      await waitFor(`http://127.0.0.1:${port}/health`, { status: [200, 503] });
      await fn(`http://127.0.0.1:${port}`);
    } finally {
      child.kill('SIGTERM');
      await new Promise((r) => child.on('exit', r));
    }
    return fs.readFileSync(log, 'utf8');
  }

  test('the right password: the cache is up and filled', async () => {
    redisCli('-a', password, 'flushall');
    await withProduct(password, async (url) => {
      assert.equal((await getJson(`${url}/health`)).body.cache, 'up');
      assert.equal((await getJson(`${url}/api/products/1`)).status, 200);
      assert.ok(Number(redisCli('-a', password, 'dbsize').stdout) > 0, 'the read filled the cache');
    });
  });

  test('a wrong password: the cache is down, requests still succeed, the log names no password', async () => {
    const wrong = `wrong-${password}`;
    const log = await withProduct(wrong, async (url) => {
      assert.equal((await getJson(`${url}/api/products/2`)).status, 200);
      assert.equal((await getJson(`${url}/health`)).body.cache, 'down');
    });
    assert.match(log, /authentication refused/);
    assert.ok(!log.includes(wrong) && !log.includes(password), 'no password in the log');
  });
});
