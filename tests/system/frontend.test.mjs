// Black-box tests of the frontend: the predecessor's routes with their exact
// bodies and status codes, form posts without JavaScript (303s), the session
// cookies, cross-site refusal, degraded sections when a backend is down, and
// static files (types, ETag/304, gzip, no traversal).
import { test, describe, before } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import http from 'node:http';
import zlib from 'node:zlib';
import { urls, stack, getJson, waitFor } from './lib/stack.js';
import { tokenFor } from './lib/tokens.js';

const base = urls.frontend;
const host = new URL(base).host;
let seq = 0;
const uniqueName = (p) => `${p}${process.pid % 10000}x${Date.now() % 100000}x${seq++}`;

/** Raw HTTP request (no client-side path normalisation, no redirects). */
function raw(path, { method = 'GET', headers = {}, body } = {}) {
  const u = new URL(base);
  return new Promise((resolve, reject) => {
    const req = http.request({ host: u.hostname, port: u.port, path, method, headers }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    if (body) req.write(body);
    req.end();
  });
}

const cookiesOf = (res) => res.headers.getSetCookie();
const cookieHeader = (setCookies) => setCookies.map((c) => c.split(';')[0]).filter((c) => !c.endsWith('=')).join('; ');

async function registerAndLogin() {
  const username = uniqueName('web');
  const user = { username, email: `${username}@example.com`, password: 'paper-crane-fold' };
  const reg = await getJson(`${base}/auth/register`, { json: user });
  assert.equal(reg.status, 201, reg.text);
  const res = await fetch(`${base}/auth/login`, {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username, password: user.password }),
  });
  assert.equal(res.status, 200);
  return { user, cookie: cookieHeader(cookiesOf(res)), setCookies: cookiesOf(res), body: await res.json() };
}

const form = (obj) => new URLSearchParams(obj).toString();
const formHeaders = (extra = {}) => ({ 'content-type': 'application/x-www-form-urlencoded', accept: 'text/html,application/xhtml+xml', ...extra });

describe('frontend', () => {
  before(async () => { await waitFor(`${base}/health`, { status: 200, timeoutMs: 20000 }); });

  describe('pages', () => {
    test('home page: origami of the day, cards, status, security headers', async () => {
      const res = await fetch(`${base}/`);
      assert.equal(res.status, 200);
      assert.match(res.headers.get('content-type'), /^text\/html/);
      const csp = res.headers.get('content-security-policy');
      assert.ok(csp.includes("script-src 'self'") && !csp.includes('unsafe-inline'));
      assert.equal(res.headers.get('x-frame-options'), 'DENY');
      assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
      assert.ok(res.headers.get('referrer-policy'));
      const html = await res.text();
      assert.match(html, /Origami of the Day/i);
      assert.equal((html.match(/<article[^>]*class="card/g) || []).length, 12);
      assert.match(html, /id="origami-1"/);
      for (const s of ['Catalogue', 'Voting', 'Recommendation', 'Authentication']) assert.match(html, new RegExp(`data-service="${s}"`));
      assert.match(html, /href="\/\?page=2/);
      assert.doesNotMatch(html, /<script>[^<]/, 'no inline script');
      assert.doesNotMatch(html, / style="/, 'no inline style');
    });

    test('pages without JavaScript: ?page=2 and ?page=3 show the rest; fragments for scrolling', async () => {
      const p2 = await (await fetch(`${base}/?page=2`)).text();
      const p3 = await (await fetch(`${base}/?page=3`)).text();
      assert.match(p2, /id="origami-13"/);
      assert.doesNotMatch(p2, /id="origami-1"/);
      assert.match(p3, /id="origami-25"/);
      const frag = await fetch(`${base}/fragments/cards?page=2`);
      assert.equal(frag.status, 200);
      assert.equal(frag.headers.get('x-next-page'), '3');
      const last = await fetch(`${base}/fragments/cards?page=3`);
      assert.equal(last.headers.get('x-next-page'), null);
      assert.match(await last.text(), /id="origami-26"/);
    });

    test('login page renders and is a normal page', async () => {
      const res = await fetch(`${base}/login`);
      assert.equal(res.status, 200);
      const html = await res.text();
      assert.match(html, /action="\/auth\/login"/);
      assert.match(html, /action="\/auth\/register"/);
    });
  });

  describe('the predecessor\'s routes', () => {
    test('register: 201 {message, user:{id, username, email}}; 400 missing; auth\'s 4xx passed on', async () => {
      const username = uniqueName('reg');
      const ok = await getJson(`${base}/auth/register`, { json: { username, email: `${username}@example.com`, password: 'paper-crane-fold' } });
      assert.equal(ok.status, 201);
      assert.equal(typeof ok.body.message, 'string');
      assert.deepEqual(Object.keys(ok.body.user).sort(), ['email', 'id', 'username']);
      assert.equal(ok.body.user.username, username);
      const missing = await getJson(`${base}/auth/register`, { json: { username } });
      assert.equal(missing.status, 400);
      assert.equal(typeof missing.body.error, 'string');
      const dup = await getJson(`${base}/auth/register`, { json: { username, email: `x${username}@example.com`, password: 'paper-crane-fold' } });
      assert.equal(dup.status, 409);
      assert.equal(dup.body.error, 'Username already exists');
      const weak = await getJson(`${base}/auth/register`, { json: { username: uniqueName('w'), email: 'w@example.com', password: 'short' } });
      assert.equal(weak.status, 400);
      assert.match(weak.body.error, /password/);
    });

    test('login: 200 {message, user:{username}} and the session cookies, never the token in the body', async () => {
      const { user, setCookies, body } = await registerAndLogin();
      assert.deepEqual(body, { message: 'Login successful', user: { username: user.username } });
      const jwt = setCookies.find((c) => c.startsWith('jwt_token='));
      const name = setCookies.find((c) => c.startsWith('username='));
      assert.ok(jwt && name);
      for (const attr of ['HttpOnly', 'SameSite=Strict', 'Path=/', 'Max-Age=3600']) assert.ok(jwt.includes(attr), `${attr} in ${jwt}`);
      assert.ok(!name.includes('HttpOnly'));
      assert.ok(name.includes('SameSite=Strict'));
      assert.equal(name.split(';')[0], `username=${user.username}`);
      assert.ok(!jwt.includes('Secure'), 'not Secure outside production');
    });

    test('login by email; wrong password 401 with auth\'s message', async () => {
      const { user } = await registerAndLogin();
      const byEmail = await getJson(`${base}/auth/login`, { json: { username: user.email, password: user.password } });
      assert.equal(byEmail.status, 200);
      const wrong = await getJson(`${base}/auth/login`, { json: { username: user.username, password: 'not-it-at-all' } });
      assert.equal(wrong.status, 401);
      assert.deepEqual(wrong.body, { error: 'Invalid credentials' });
      const missing = await getJson(`${base}/auth/login`, { json: { username: user.username } });
      assert.equal(missing.status, 400);
    });

    test('status and user, logged in and out', async () => {
      const { user, cookie } = await registerAndLogin();
      assert.deepEqual((await getJson(`${base}/auth/status`, { headers: { cookie } })).body,
        { authenticated: true, user: { username: user.username, role: 'user' } });
      assert.deepEqual((await getJson(`${base}/auth/user`, { headers: { cookie } })).body, { username: user.username });
      assert.deepEqual((await getJson(`${base}/auth/status`)).body, { authenticated: false });
      const anon = await getJson(`${base}/auth/user`);
      assert.equal(anon.status, 401);
      assert.deepEqual(anon.body, { error: 'Authentication required' });
    });

    test('a tampered or expired token is refused and both cookies are cleared', async () => {
      const { cookie } = await registerAndLogin();
      const tampered = cookie.replace(/jwt_token=([^;]+)/, (m, t) => `jwt_token=${t.slice(0, -3)}abc`);
      const res = await fetch(`${base}/auth/status`, { headers: { cookie: tampered } });
      assert.deepEqual(await res.json(), { authenticated: false });
      const cleared = cookiesOf(res);
      assert.ok(cleared.some((c) => c.startsWith('jwt_token=;') && c.includes('Max-Age=0')));
      assert.ok(cleared.some((c) => c.startsWith('username=;') && c.includes('Max-Age=0')));
    });

    test('a token whose key is not published yet keeps the session: anonymous view, votes 503 with Retry-After', async () => {
      const { privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
      const early = await tokenFor('someone_early', { key: privateKey, header: { kid: `not-yet-${Date.now()}` } });
      const cookie = `jwt_token=${early}; username=someone_early`;
      const status = await fetch(`${base}/auth/status`, { headers: { cookie } });
      assert.deepEqual(await status.json(), { authenticated: false });
      assert.deepEqual(cookiesOf(status).filter((c) => c.startsWith('jwt_token=')), []);
      const vote = await getJson(`${base}/api/origamis/2/vote`, { method: 'POST', headers: { cookie, accept: 'application/json' } });
      assert.equal(vote.status, 503, vote.text);
      assert.ok(Number(vote.headers.get('retry-after')) >= 1);
      assert.deepEqual(vote.headers.getSetCookie().filter((c) => c.startsWith('jwt_token=')), []);
    });

    test('an expired session logs the visitor out gracefully', async () => {
      const expired = await tokenFor('someone_expired', { ttl: -3600 }); // exp an hour ago
      const res = await fetch(`${base}/`, { headers: { cookie: `jwt_token=${expired}; username=someone_expired` } });
      assert.equal(res.status, 200);
      const html = await res.text();
      assert.doesNotMatch(html, /Signed in as/);
      assert.match(html, /href="\/login"/);
      assert.ok(cookiesOf(res).some((c) => c.startsWith('jwt_token=;') && c.includes('Max-Age=0')));
      // a valid token of the same kind is accepted, so the refusal was the expiry
      const valid = await tokenFor('someone_valid');
      const ok = await getJson(`${base}/auth/status`, { headers: { cookie: `jwt_token=${valid}` } });
      assert.equal(ok.body.authenticated, true);
    });

    test('Secure cookies with COOKIE_SECURE=true (and in production)', async () => {
      stack('svc-stop', 'frontend');
      stack('svc-start', 'frontend', { env: { COOKIE_SECURE: 'true' } });
      try {
        await waitFor(`${base}/health`);
        const { setCookies } = await registerAndLogin();
        for (const name of ['jwt_token=', 'username=']) {
          const c = setCookies.find((x) => x.startsWith(name));
          assert.ok(c.includes('; Secure'), `${name} Secure: ${c}`);
        }
      } finally {
        stack('svc-stop', 'frontend');
        stack('svc-start', 'frontend');
        await waitFor(`${base}/health`);
      }
    });

    test('logout: 200 {message:"Logout successful"}, both cookies cleared', async () => {
      const { cookie } = await registerAndLogin();
      const res = await fetch(`${base}/auth/logout`, { method: 'POST', headers: { cookie } });
      assert.equal(res.status, 200);
      assert.deepEqual(await res.json(), { message: 'Logout successful' });
      const set = cookiesOf(res);
      assert.ok(set.some((c) => c.startsWith('jwt_token=;')));
      assert.ok(set.some((c) => c.startsWith('username=;')));
    });

    test('votes: text answers, JSON when asked first, 401 without a session', async () => {
      const { cookie } = await registerAndLogin();
      const before = (await getJson(`${base}/api/origamis/2/votes`, { headers: { cookie } })).body;
      assert.equal(before.voted, false);
      const v = await fetch(`${base}/api/origamis/2/vote`, { method: 'POST', headers: { cookie } });
      assert.equal(v.status, 200);
      assert.equal(await v.text(), 'Vote recorded!');
      const after = (await getJson(`${base}/api/origamis/2/votes`, { headers: { cookie } })).body;
      assert.deepEqual(after, { origami_id: 2, votes: before.votes + 1, voted: true });
      const w = await fetch(`${base}/api/origamis/2/vote`, { method: 'DELETE', headers: { cookie } });
      assert.equal(await w.text(), 'Vote withdrawn');
      const j = await getJson(`${base}/api/origamis/2/vote`, { method: 'POST', headers: { cookie, accept: 'application/json' } });
      assert.equal(j.status, 200);
      assert.equal(j.body.origami_id, 2);
      assert.equal(j.body.new_vote_count, before.votes + 1);
      assert.equal(typeof j.body.message, 'string');
      await fetch(`${base}/api/origamis/2/vote`, { method: 'DELETE', headers: { cookie } });
      const anon = await fetch(`${base}/api/origamis/2/vote`, { method: 'POST' });
      assert.equal(anon.status, 401);
      assert.equal(await anon.text(), 'Authentication required');
    });

    test('products, daily origami and status routes', async () => {
      const list = await getJson(`${base}/api/products`);
      assert.equal(list.status, 200);
      assert.deepEqual(list.body, (await getJson(`${urls.product}/api/products`)).body);
      const daily = await getJson(`${base}/daily-origami`);
      assert.deepEqual(daily.body, (await getJson(`${urls.recommendation}/api/origami-of-the-day`)).body);
      assert.deepEqual((await getJson(`${base}/api/service-status`)).body,
        { Catalogue: 'up', Voting: 'up', Recommendation: 'up', Authentication: 'up' });
      for (const p of ['/recommendation-status', '/votingservice-status']) {
        const s = await getJson(`${base}${p}`);
        assert.equal(s.status, 200);
        assert.equal(s.body.status, 'up');
        assert.equal(typeof s.body.message, 'string');
      }
    });
  });

  describe('without JavaScript: form posts and 303s', () => {
    test('login form: 303 to / with the cookies; a wrong password: 303 to /login showing the error and the typed name', async () => {
      const { user } = await registerAndLogin();
      const ok = await raw('/auth/login', { method: 'POST', headers: formHeaders(), body: form({ username: user.username, password: user.password }) });
      assert.equal(ok.status, 303);
      assert.equal(ok.headers.location, '/');
      assert.ok(ok.headers['set-cookie'].some((c) => c.startsWith('jwt_token=')));
      const bad = await raw('/auth/login', { method: 'POST', headers: formHeaders(), body: form({ username: user.username, password: 'wrong-password!' }) });
      assert.equal(bad.status, 303);
      assert.equal(bad.headers.location, '/login');
      const flash = bad.headers['set-cookie'].find((c) => c.startsWith('flash=')).split(';')[0];
      const page = await (await fetch(`${base}/login`, { headers: { cookie: flash } })).text();
      assert.match(page, /Invalid credentials/);
      assert.match(page, new RegExp(`value="${user.username}"`));
    });

    test('register form: 303 to / signed in; an error goes back to /login at the field', async () => {
      const username = uniqueName('form');
      const ok = await raw('/auth/register', { method: 'POST', headers: formHeaders(), body: form({ username, email: `${username}@example.com`, password: 'paper-crane-fold' }) });
      assert.equal(ok.status, 303);
      assert.equal(ok.headers.location, '/');
      assert.ok(ok.headers['set-cookie'].some((c) => c.startsWith('jwt_token=ey')));
      const dup = await raw('/auth/register', { method: 'POST', headers: formHeaders(), body: form({ username, email: `o${username}@example.com`, password: 'paper-crane-fold' }) });
      assert.equal(dup.status, 303);
      assert.match(dup.headers.location, /^\/login/);
      const flash = dup.headers['set-cookie'].find((c) => c.startsWith('flash=')).split(';')[0];
      const page = await (await fetch(`${base}/login`, { headers: { cookie: flash } })).text();
      assert.match(page, /Username already exists/);
    });

    test('vote and withdraw forms: 303 back to the card, counts change', async () => {
      const { cookie } = await registerAndLogin();
      const before = (await getJson(`${base}/api/origamis/3/votes`)).body.votes;
      const v = await raw('/api/origamis/3/vote', { method: 'POST', headers: formHeaders({ cookie, referer: `${base}/?page=1` }), body: form({ _csrf: 'x' }) });
      assert.equal(v.status, 303);
      assert.equal(v.headers.location, '/?page=1#origami-3');
      assert.equal((await getJson(`${base}/api/origamis/3/votes`)).body.votes, before + 1);
      const page = await (await fetch(`${base}/`, { headers: { cookie } })).text();
      assert.match(page, /Withdraw vote/);
      const w = await raw('/api/origamis/3/vote', { method: 'POST', headers: formHeaders({ cookie }), body: form({ _method: 'delete' }) });
      assert.equal(w.status, 303);
      assert.equal((await getJson(`${base}/api/origamis/3/votes`)).body.votes, before);
      const anon = await raw('/api/origamis/3/vote', { method: 'POST', headers: formHeaders(), body: form({}) });
      assert.equal(anon.status, 303);
      assert.equal(anon.headers.location, '/login');
    });

    test('logout form: 303 to /, cookies cleared', async () => {
      const { cookie } = await registerAndLogin();
      const res = await raw('/auth/logout', { method: 'POST', headers: formHeaders({ cookie }), body: '' });
      assert.equal(res.status, 303);
      assert.equal(res.headers.location, '/');
      assert.ok(res.headers['set-cookie'].some((c) => c.startsWith('jwt_token=;')));
    });

    test('cross-site form posts are refused', async () => {
      const { cookie } = await registerAndLogin();
      for (const headers of [{ origin: 'https://evil.example' }, { 'sec-fetch-site': 'cross-site' }, { referer: 'https://evil.example/page' }, { origin: 'null' }]) {
        for (const path of ['/api/origamis/4/vote', '/auth/logout', '/auth/login']) {
          const res = await raw(path, { method: 'POST', headers: formHeaders({ cookie, ...headers }), body: form({ username: 'a', password: 'b' }) });
          assert.equal(res.status, 403, `${path} with ${JSON.stringify(headers)}`);
        }
      }
      const same = await raw('/api/origamis/4/vote', { method: 'POST', headers: formHeaders({ cookie, origin: `http://${host}` }), body: '' });
      assert.equal(same.status, 303);
      await fetch(`${base}/api/origamis/4/vote`, { method: 'DELETE', headers: { cookie } });
    });
  });

  describe('a backend down degrades only its section', () => {
    test('recommendation stopped: the page renders with a note; the dashboard shows it down', async () => {
      stack('svc-stop', 'recommendation');
      try {
        const res = await fetch(`${base}/`);
        assert.equal(res.status, 200);
        const html = await res.text();
        assert.match(html, /taking a break/);
        assert.equal((html.match(/<article[^>]*class="card/g) || []).length, 12);
        assert.equal((await getJson(`${base}/api/service-status`)).body.Recommendation, 'down');
        assert.equal((await getJson(`${base}/recommendation-status`)).body.status, 'down');
        const daily = await getJson(`${base}/daily-origami`);
        assert.equal(daily.status, 503);
        assert.ok(Number(daily.headers.get('retry-after')) >= 1, 'a 503 says when to retry');
      } finally {
        stack('svc-start', 'recommendation');
      }
    });

    test('product stopped: the collection shows a note, the rest renders; 503s say when to retry', async () => {
      const session = await registerAndLogin();
      stack('svc-stop', 'product');
      try {
        const res = await fetch(`${base}/`);
        assert.equal(res.status, 200);
        const html = await res.text();
        assert.match(html, /catalogue is unavailable/);
        assert.match(html, /Origami of the Day/i);
        const status = (await getJson(`${base}/api/service-status`)).body;
        assert.equal(status.Catalogue, 'down');
        assert.equal(status.Authentication, 'up');
        const list = await getJson(`${base}/api/products`);
        assert.equal(list.status, 503);
        assert.ok(Number(list.headers.get('retry-after')) >= 1, 'a 503 says when to retry');
        const vote = await getJson(`${base}/api/origamis/3/vote`, { method: 'POST', headers: { cookie: session.cookie, accept: 'application/json' } });
        assert.equal(vote.status, 503, vote.text);
        assert.ok(Number(vote.headers.get('retry-after')) >= 1, 'a 503 says when to retry');
      } finally {
        stack('svc-start', 'product');
      }
    });
  });

  describe('static files', () => {
    test('content types, at /static/ and at the root', async () => {
      const cases = [['/static/css/app.css', /^text\/css/], ['/css/app.css', /^text\/css/],
        ['/static/js/app.js', /^text\/javascript/], ['/static/images/origami/crane.svg', /^image\/svg\+xml/],
        ['/favicon.svg', /^image\/svg\+xml/]];
      for (const [p, type] of cases) {
        const res = await fetch(`${base}${p}`);
        assert.equal(res.status, 200, p);
        assert.match(res.headers.get('content-type'), type, p);
        assert.ok(res.headers.get('cache-control'));
        await res.arrayBuffer();
      }
      const a = await (await fetch(`${base}/static/css/app.css`)).text();
      const b = await (await fetch(`${base}/css/app.css`)).text();
      assert.equal(a, b);
    });

    test('ETag and 304', async () => {
      const first = await raw('/static/css/app.css');
      const etag = first.headers.etag;
      assert.match(etag, /^"[0-9a-f]{32}"$/);
      const again = await raw('/static/css/app.css', { headers: { 'if-none-match': etag } });
      assert.equal(again.status, 304);
      assert.equal(again.body.length, 0);
      const changed = await raw('/static/css/app.css', { headers: { 'if-none-match': '"nope"' } });
      assert.equal(changed.status, 200);
    });

    test('gzip when accepted, identical after decompression', async () => {
      const plain = await raw('/static/js/app.js');
      const gz = await raw('/static/js/app.js', { headers: { 'accept-encoding': 'gzip, deflate' } });
      assert.equal(gz.headers['content-encoding'], 'gzip');
      assert.equal(gz.headers.vary, 'Accept-Encoding');
      assert.ok(gz.body.length < plain.body.length);
      assert.deepEqual(zlib.gunzipSync(gz.body), plain.body);
      const refused = await raw('/static/js/app.js', { headers: { 'accept-encoding': 'gzip;q=0' } });
      assert.equal(refused.headers['content-encoding'], undefined);
    });

    const traversal = ['/static/../../../../etc/passwd', '/static/%2e%2e/%2e%2e/%2e%2e/etc/passwd',
      '/static/..%2f..%2f..%2fetc%2fpasswd', '/static/%252e%252e/etc/passwd', '/static//etc/passwd',
      '//etc/passwd', '/static/css/../../main.c', '/..%5c..%5cetc%5cpasswd', '/static/%2fetc%2fpasswd',
      '/%2e%2e/%2e%2e/etc/passwd', '/static/css/app.css%00.png', '/.hidden', '/static/./css/app.css'];
    for (const p of traversal) {
      test(`no traversal: ${p}`, async () => {
        const res = await raw(p);
        assert.ok([400, 404].includes(res.status), `${p} → ${res.status}`);
        assert.doesNotMatch(res.body.toString(), /root:|#include/);
      });
    }
  });
});
