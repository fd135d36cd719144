// Black-box tests of the product service over real PostgreSQL, Redis and auth:
// the catalogue contract, per-user votes counted exactly under concurrency, and a
// Redis cache that never serves a count older than one already acknowledged.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import * as jose from 'jose';
import { spawn } from 'node:child_process';
import { urls, stack, getJson, waitFor, sql, varDir, freePort, binaryPath } from './lib/stack.js';
import { tokenFor } from './lib/tokens.js';

const base = urls.product;
let seq = 0;
const uniqueUser = (p) => `${p}_${process.pid}_${seq++}`;

function assertError(res, status) {
  assert.equal(res.status, status, res.text);
  assert.equal(res.body.status_code, status);
  assert.equal(typeof res.body.error, 'string');
  assert.equal(typeof res.body.path, 'string');
}

function assertProduct(p) {
  assert.deepEqual(Object.keys(p).sort(), ['description', 'id', 'image_url', 'name', 'votes']);
  assert.ok(Number.isInteger(p.id) && p.id > 0);
  assert.ok(Number.isInteger(p.votes) && p.votes >= 0);
}

const vote = (id, token, method = 'POST') => getJson(`${base}/api/origamis/${id}/vote`, { method, token });
const votes = (id, token) => getJson(`${base}/api/origamis/${id}/votes`, { token });
const countInDb = async (id) => {
  const [row] = await sql(`SELECT votes, (SELECT count(*) FROM votes WHERE product_id = ${id}) AS n FROM products WHERE id = ${id}`);
  return { votes: Number(row.votes), rows: Number(row.n) };
};

/** Run `fn` over items with at most `limit` in flight. */
async function pool(items, limit, fn) {
  const results = new Array(items.length);
  let next = 0;
  await Promise.all(Array.from({ length: limit }, async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i], i);
    }
  }));
  return results;
}

const redisPid = () => Number(fs.readFileSync(path.join(varDir, 'run', 'redis.pid'), 'utf8'));

describe('product service', () => {
  let admin;
  before(async () => {
    await waitFor(`${base}/health`, { status: 200, timeoutMs: 20000 });
    admin = await tokenFor(uniqueUser('admin'), { role: 'admin' });
  });

  describe('catalogue', () => {
    test('lists every product ordered by id, on both paths', async () => {
      const a = await getJson(`${base}/api/products`);
      const b = await getJson(`${base}/api/origamis`);
      assert.equal(a.status, 200);
      assert.ok(a.body.length >= 24);
      a.body.forEach(assertProduct);
      assert.deepEqual(a.body.map((p) => p.id), [...a.body.map((p) => p.id)].sort((x, y) => x - y));
      assert.deepEqual(a.body.slice(0, 5).map((p) => p.name),
        ['Origami Crane', 'Origami Frog', 'Origami Kangaroo', 'Origami Camel', 'Origami Butterfly']);
      assert.deepEqual(b.body.map((p) => p.id), a.body.map((p) => p.id));
    });

    test('one product on both paths; 404 when absent', async () => {
      for (const p of ['/api/products/1', '/api/origamis/1']) {
        const res = await getJson(`${base}${p}`);
        assert.equal(res.status, 200);
        assertProduct(res.body);
        assert.equal(res.body.name, 'Origami Crane');
      }
      assertError(await getJson(`${base}/api/products/99999`), 404);
      assertError(await getJson(`${base}/api/origamis/99999/votes`), 404);
    });

    for (const bad of ['0', '-1', 'abc', '1.5', '1e3', '99999999999', '%20']) {
      test(`400 for id ${bad}`, async () => {
        assertError(await getJson(`${base}/api/products/${bad}`), 400);
        assertError(await getJson(`${base}/api/origamis/${bad}/votes`), 400);
      });
    }

    test('system info', async () => {
      const res = await getJson(`${base}/api/system-info`);
      assert.equal(res.status, 200);
      assert.equal(typeof res.body.hostname, 'string');
      assert.equal(typeof res.body.ip_address, 'string');
      assert.equal(typeof res.body.is_container, 'boolean');
      assert.equal(typeof res.body.is_kubernetes, 'boolean');
    });

    test('home page and health', async () => {
      const home = await fetch(`${base}/`);
      assert.match(await home.text(), /Product service/);
      const health = await getJson(`${base}/health`);
      assert.equal(health.status, 200);
      assert.equal(health.body.checks.database, 'up');
      assert.equal(health.body.cache, 'up');
    });
  });

  describe('voting', () => {
    test('401 with WWW-Authenticate: Bearer without a valid token', async () => {
      for (const token of [undefined, 'garbage', await tokenFor('x', { claims: { aud: 'other' } })]) {
        const res = await vote(2, token);
        assertError(res, 401);
        assert.match(res.headers.get('www-authenticate'), /^Bearer/);
      }
      assertError(await getJson(`${base}/api/votes/mine`), 401);
    });

    test('vote, repeat, withdraw: counts, messages, voted, mine', async () => {
      const user = uniqueUser('voter');
      const token = await tokenFor(user);
      const before = (await votes(4)).body.votes;
      const first = await vote(4, token);
      assert.equal(first.status, 200);
      assert.deepEqual({ ...first.body, message: undefined }, { origami_id: 4, new_vote_count: before + 1, message: undefined, voted: true });
      const again = await vote(4, token);
      assert.equal(again.status, 200);
      assert.equal(again.body.new_vote_count, before + 1);
      assert.notEqual(again.body.message, first.body.message);
      assert.match(again.body.message, /already/i);
      assert.deepEqual((await votes(4, token)).body, { origami_id: 4, votes: before + 1, voted: true });
      assert.deepEqual((await votes(4)).body, { origami_id: 4, votes: before + 1 });
      assert.deepEqual((await getJson(`${base}/api/votes/mine`, { token })).body, { username: user, origami_ids: [4] });
      const gone = await vote(4, token, 'DELETE');
      assert.equal(gone.status, 200);
      assert.equal(gone.body.new_vote_count, before);
      const goneAgain = await vote(4, token, 'DELETE');
      assert.equal(goneAgain.body.new_vote_count, before);
      assert.equal((await votes(4, token)).body.voted, false);
      assertError(await vote(99999, token), 404);
    });

    test('1,000 distinct users voting at once: the count is exact', async () => {
      const id = 6;
      const start = (await countInDb(id)).votes;
      const tokens = await Promise.all(Array.from({ length: 1000 }, (_, i) => tokenFor(uniqueUser(`crowd${i}`))));
      const results = await pool(tokens, 200, (t) => vote(id, t));
      assert.deepEqual([...new Set(results.map((r) => r.status))], [200]);
      const db = await countInDb(id);
      assert.equal(db.votes, start + 1000);
      assert.equal(db.rows, db.votes);
      assert.equal((await votes(id)).body.votes, start + 1000);
      assert.equal((await getJson(`${base}/api/products/${id}`)).body.votes, start + 1000);
    });

    test('one user voting 50 times in parallel: one vote', async () => {
      const id = 7;
      const start = (await countInDb(id)).votes;
      const token = await tokenFor(uniqueUser('eager'));
      const results = await Promise.all(Array.from({ length: 50 }, () => vote(id, token)));
      assert.deepEqual([...new Set(results.map((r) => r.status))], [200]);
      assert.equal(results.filter((r) => r.body.message === 'Vote recorded').length, 1);
      for (const r of results) assert.equal(r.body.new_vote_count, start + 1);
      assert.equal((await countInDb(id)).votes, start + 1);
    });
  });

  describe('the cache never serves an older count', () => {
    // Voters vote one at a time each; `acked` is the highest count acknowledged so
    // far. A reader notes `acked` before it asks: its answer may never be lower.
    async function raceVotersAndReaders({ id, voters, votesEach, readers, during }) {
      let acked = (await countInDb(id)).votes;
      let running = true;
      const failures = [];
      const stale = [];
      let reads = 0;
      const voterTasks = Array.from({ length: voters }, async (_, v) => {
        for (let i = 0; i < votesEach; i++) {
          const res = await vote(id, await tokenFor(uniqueUser(`race${v}`)));
          if (res.status !== 200) failures.push(`vote ${res.status} ${res.text}`);
          else acked = Math.max(acked, res.body.new_vote_count);
        }
      });
      const readerTasks = Array.from({ length: readers }, async (_, r) => {
        while (running) {
          const floor = acked;
          const res = r % 2 ? await votes(id) : await getJson(`${base}/api/products/${id}`);
          reads++;
          if (res.status !== 200) failures.push(`read ${res.status} ${res.text}`);
          else if (res.body.votes < floor) stale.push(`read ${res.body.votes} after ${floor} was acknowledged`);
        }
      });
      await during?.();
      await Promise.all(voterTasks);
      running = false;
      await Promise.all(readerTasks);
      return { failures, stale, reads, acked };
    }

    test('concurrent voters and readers through the cache', async () => {
      const r = await raceVotersAndReaders({ id: 8, voters: 8, votesEach: 40, readers: 8 });
      assert.deepEqual(r.failures, []);
      assert.deepEqual(r.stale, []);
      assert.ok(r.reads > 100, `only ${r.reads} reads`);
      assert.equal((await votes(8)).body.votes, (await countInDb(8)).votes);
    });

    test('Redis stopped mid-test: no failed request; restarted: no stale value', async () => {
      const r = await raceVotersAndReaders({
        id: 9, voters: 6, votesEach: 40, readers: 6,
        during: async () => {
          await new Promise((res) => setTimeout(res, 150));
          stack('redis-stop');
          await new Promise((res) => setTimeout(res, 600));
          stack('redis-start');
        },
      });
      assert.deepEqual(r.failures, []);
      assert.deepEqual(r.stale, []);
      // once the replica trusts the cache again, reads agree with PostgreSQL
      await waitFor(`${base}/metrics`, { status: 200 });
      const db = await countInDb(9);
      assert.equal((await votes(9)).body.votes, db.votes);
    });

    test('Redis frozen while votes commit, then thawed with its old entries: none is served', async () => {
      const id = 10;
      const user = await tokenFor(uniqueUser('freeze'));
      // warm the cache with the current count
      const warm = (await votes(id)).body.votes;
      assert.equal((await votes(id)).body.votes, warm);
      const pid = redisPid();
      process.kill(pid, 'SIGSTOP');
      let res;
      try {
        res = await vote(id, user); // commits; the cache update times out
        assert.equal(res.status, 200);
        assert.equal(res.body.new_vote_count, warm + 1);
        // reads during the freeze come from PostgreSQL
        assert.equal((await votes(id)).body.votes, warm + 1);
      } finally {
        process.kill(pid, 'SIGCONT');
      }
      // Redis is back with the old entry still in it: never served
      for (let i = 0; i < 40; i++) {
        const now = await votes(id);
        assert.equal(now.status, 200);
        assert.equal(now.body.votes, warm + 1, 'stale count served after Redis returned');
        await new Promise((r) => setTimeout(r, 25));
      }
      // the repair pass runs every second on every replica: wait for it
      let pending = 1;
      for (let i = 0; i < 100 && pending > 0; i++) {
        pending = Number((await sql('SELECT count(*) AS n FROM cache_repair'))[0].n);
        if (pending > 0) await new Promise((r) => setTimeout(r, 100));
      }
      assert.equal(pending, 0, 'every repair was carried out');
      assert.equal((await votes(id)).body.votes, warm + 1);
    });
  });

  describe('two replicas share the cache', () => {
    let second;
    let secondUrl;
    before(async () => {
      const port = await freePort();
      secondUrl = `http://127.0.0.1:${port}`;
      second = spawn(binaryPath('product'), [], {
        env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'warn' },
        stdio: 'ignore',
      });
      await waitFor(`${secondUrl}/health`, { status: 200, timeoutMs: 20000 });
      // wait until the new replica trusts the cache (its first repair pass)
      for (let i = 0; i < 50; i++) {
        const m = await (await fetch(`${secondUrl}/metrics`)).text();
        if (/^craft_product_cache_trusted 1/m.test(m)) break;
        await new Promise((r) => setTimeout(r, 100));
      }
    });
    after(async () => {
      second.kill('SIGTERM');
      await new Promise((r) => second.once('exit', r));
    });

    test('a vote acknowledged by one replica is seen by the other, never an older count', async () => {
      const id = 13;
      const warm = (await getJson(`${secondUrl}/api/products/${id}`)).body.votes; // cached on B
      let acked = warm;
      const stale = [];
      let running = true;
      const reader = (async () => {
        while (running) {
          const floor = acked;
          const r = await getJson(`${secondUrl}/api/origamis/${id}/votes`);
          if (r.status !== 200 || r.body.votes < floor) stale.push(`${r.status} ${r.body?.votes} < ${floor}`);
        }
      })();
      for (let i = 0; i < 60; i++) {
        const res = await vote(id, await tokenFor(uniqueUser('replica')));
        assert.equal(res.status, 200);
        acked = res.body.new_vote_count;
      }
      running = false;
      await reader;
      assert.deepEqual(stale, []);
      assert.equal((await getJson(`${secondUrl}/api/products/${id}`)).body.votes, warm + 60);
      const m = await (await fetch(`${secondUrl}/metrics`)).text();
      assert.match(m, /^craft_product_cache_hits_total [1-9]/m, 'replica B read from the cache');
    });
  });

  describe('tokens and keys', () => {
    test('with auth stopped, votes are still verified with the cached keys', async () => {
      const token = await tokenFor(uniqueUser('authdown'));
      stack('svc-stop', 'auth');
      try {
        const res = await vote(11, token);
        assert.equal(res.status, 200, res.text);
        assertError(await vote(11, 'not-a-token'), 401);
      } finally {
        stack('svc-start', 'auth');
      }
    });

    test('keys come from the JWKS: a key served by a test JWKS is accepted, and refused once removed', async () => {
      const a = await jose.generateKeyPair('RS256', { extractable: true });
      const b = await jose.generateKeyPair('RS256', { extractable: true });
      const jwk = async (k, kid) => ({ ...(await jose.exportJWK(k.publicKey)), kid, alg: 'RS256', use: 'sig' });
      let served = { keys: [await jwk(a, 'test-a')] };
      const port = await freePort();
      const server = http.createServer((req, res) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify(served));
      });
      await new Promise((r) => server.listen(port, '127.0.0.1', r));
      const env = { JWKS_URL: `http://127.0.0.1:${port}/jwks`, JWKS_REFRESH_SECONDS: '1', JWKS_MIN_REFETCH_MS: '100' };
      try {
        stack('svc-stop', 'product');
        stack('svc-start', 'product', { env });
        await waitFor(`${base}/health`);
        const signed = (key, kid) => tokenFor(uniqueUser('jwks'), { key: key.privateKey, header: { kid } });
        const tokenA = await signed(a, 'test-a');
        let res;
        for (let i = 0; i < 50; i++) { // the first fetch happens in the background
          res = await vote(12, tokenA);
          if (res.status === 200) break;
          await new Promise((r) => setTimeout(r, 100));
        }
        assert.equal(res.status, 200, res.text);
        // an unknown kid makes product fetch the set again: key b is accepted at once
        served = { keys: [await jwk(a, 'test-a'), await jwk(b, 'test-b')] };
        await new Promise((r) => setTimeout(r, 150));
        assert.equal((await vote(12, await signed(b, 'test-b'))).status, 200);
        // key a removed: refused after the next refresh
        served = { keys: [await jwk(b, 'test-b')] };
        await new Promise((r) => setTimeout(r, 2500));
        const refused = await vote(12, await signed(a, 'test-a'));
        assertError(refused, 401);
      } finally {
        stack('svc-stop', 'product');
        stack('svc-start', 'product');
        await waitFor(`${base}/health`);
        server.close();
      }
    });
  });

  describe('administration', () => {
    const user = () => tokenFor(uniqueUser('plain'));
    const post = (token, json) => getJson(`${base}/api/products`, { token, json });

    test('401 without a token, 403 for a user', async () => {
      assertError(await post(undefined, { name: 'x' }), 401);
      assertError(await post(await user(), { name: 'x' }), 403);
      assertError(await getJson(`${base}/api/products/1`, { method: 'PUT', token: await user(), json: { name: 'x' } }), 403);
      assertError(await getJson(`${base}/api/products/1`, { method: 'DELETE', token: await user() }), 403);
    });

    test('an unknown role grants nothing: 403 on user and admin routes alike', async () => {
      const odd = await tokenFor(uniqueUser('odd'), { role: 'superuser' });
      assertError(await getJson(`${base}/api/origamis/1/vote`, { method: 'POST', token: odd }), 403);
      assertError(await getJson(`${base}/api/votes/mine`, { token: odd }), 403);
      assertError(await post(odd, { name: 'x' }), 403);
      // the same user with a known role is let through
      const known = await tokenFor(uniqueUser('known'));
      assert.equal((await getJson(`${base}/api/votes/mine`, { token: known })).status, 200);
    });

    test('create, update, delete: ids from the database, the cache follows', async () => {
      const created = await post(admin, { name: 'Origami Test Star', description: 'A star.', image_url: '/static/images/origami/placeholder.svg' });
      assert.equal(created.status, 201, created.text);
      assertProduct(created.body);
      const id = created.body.id;
      assert.ok(id > 26);
      assert.equal((await getJson(`${base}/api/products/${id}`)).body.name, 'Origami Test Star');
      const updated = await getJson(`${base}/api/products/${id}`, { method: 'PUT', token: admin, json: { description: 'A bright star.' } });
      assert.equal(updated.status, 200);
      assert.equal(updated.body.name, 'Origami Test Star');
      assert.equal(updated.body.description, 'A bright star.');
      assert.equal((await getJson(`${base}/api/products/${id}`)).body.description, 'A bright star.');
      const del = await getJson(`${base}/api/products/${id}`, { method: 'DELETE', token: admin });
      assert.equal(del.status, 200);
      assertError(await getJson(`${base}/api/products/${id}`), 404);
      assertError(await getJson(`${base}/api/products/${id}`, { method: 'DELETE', token: admin }), 404);
    });

    const invalid = [
      ['name missing', { description: 'x' }, 'name'],
      ['name empty', { name: '' }, 'name'],
      ['name blank', { name: '   ' }, 'name'],
      ['name too long', { name: 'n'.repeat(256) }, 'name'],
      ['name not a string', { name: 7 }, 'name'],
      ['description too long', { name: 'ok', description: 'd'.repeat(10001) }, 'description'],
      ['image_url http', { name: 'ok', image_url: 'http://example.com/a.png' }, 'image_url'],
      ['image_url javascript', { name: 'ok', image_url: 'javascript:alert(1)' }, 'image_url'],
      ['image_url traversal', { name: 'ok', image_url: '/static/../secret' }, 'image_url'],
      ['image_url outside static', { name: 'ok', image_url: '/etc/passwd' }, 'image_url'],
    ];
    for (const [name, body, field] of invalid) {
      test(`400 for ${name}`, async () => {
        const res = await post(admin, body);
        assertError(res, 400);
        assert.equal(res.body.field, field);
      });
    }

    test('names of up to 255 characters, descriptions of up to 10,000, https images', async () => {
      const res = await post(admin, { name: 'ñ'.repeat(255), description: 'd'.repeat(10000), image_url: 'https://images.example.com/star.svg' });
      assert.equal(res.status, 201, res.text);
      await getJson(`${base}/api/products/${res.body.id}`, { method: 'DELETE', token: admin });
    });
  });
});
