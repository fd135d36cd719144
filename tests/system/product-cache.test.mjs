// Black-box tests of product's cached catalogue and its conditional requests: ETags
// and 304 for one product and for the list, a list that is never older than a vote
// already acknowledged (also while Redis stops and comes back), and no failed request
// meanwhile. Products 17-22 are this file's own: no other test votes on them.
import { test, describe, before } from 'node:test';
import assert from 'node:assert/strict';
import { urls, stack, getJson, waitFor, sql } from './lib/stack.js';
import { tokenFor } from './lib/tokens.js';

const base = urls.product;
let seq = 0;
const uniqueUser = (p) => `${p}_${process.pid}_${seq++}`;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const vote = (id, token, method = 'POST') => getJson(`${base}/api/origamis/${id}/vote`, { method, token });
const get = (path, etag) => getJson(`${base}${path}`, { headers: etag ? { 'if-none-match': etag } : {} });
const dbVotes = async (id) => Number((await sql(`SELECT votes FROM products WHERE id = ${id}`))[0].votes);

async function metric(name) {
  const text = await (await fetch(`${base}/metrics`)).text();
  const m = text.match(new RegExp(`^${name} (\\S+)$`, 'm'));
  return m ? Number(m[1]) : NaN;
}

async function waitTrusted() {
  for (let i = 0; i < 100; i++) {
    if ((await metric('craft_product_cache_trusted')) === 1) return;
    await sleep(100);
  }
  assert.fail('the cache was not trusted again');
}

describe('product cache: ETags and the cached list', () => {
  before(async () => {
    await waitFor(`${base}/health`, { status: 200, timeoutMs: 20000 });
    await waitTrusted();
  });

  describe('one product', () => {
    test('200 carries a strong ETag; If-None-Match answers 304 without a body', async () => {
      for (const path of ['/api/products/17', '/api/origamis/17']) {
        const first = await get(path);
        assert.equal(first.status, 200);
        const etag = first.headers.get('etag');
        assert.match(etag, /^"p\d+"$/);
        assert.equal(first.body.id, 17);
        const again = await get(path, etag);
        assert.equal(again.status, 304);
        assert.equal(again.text, '');
        assert.equal(again.headers.get('etag'), etag);
        // a list of tags, and the weak form, match too; another tag does not
        assert.equal((await get(path, `"x", ${etag}`)).status, 304);
        assert.equal((await get(path, `W/${etag}`)).status, 304);
        const other = await get(path, '"p1"');
        assert.equal(other.status, 200);
        assert.equal(other.headers.get('etag'), etag);
      }
      const [a, b] = await Promise.all([get('/api/products/17'), get('/api/origamis/17')]);
      assert.equal(a.headers.get('etag'), b.headers.get('etag'));
      assert.equal(a.text, b.text);
    });

    test('a vote changes the ETag: the old one gets a 200 with the new count', async () => {
      const before = await get('/api/products/18');
      const etag = before.headers.get('etag');
      const res = await vote(18, await tokenFor(uniqueUser('etag')));
      assert.equal(res.status, 200);
      const after = await get('/api/products/18', etag);
      assert.equal(after.status, 200);
      assert.notEqual(after.headers.get('etag'), etag);
      assert.equal(after.body.votes, res.body.new_vote_count);
      assert.equal((await get('/api/origamis/18', after.headers.get('etag'))).status, 304);
    });

    test('a missing product is a 404 without an ETag', async () => {
      const res = await get('/api/products/99998', '"p1"');
      assert.equal(res.status, 404);
      assert.equal(res.headers.get('etag'), null);
    });
  });

  describe('the list', () => {
    test('200 with a strong ETag, served from Redis; If-None-Match answers 304', async () => {
      const first = await get('/api/products');
      assert.equal(first.status, 200);
      const etag = first.headers.get('etag');
      assert.match(etag, /^"l[0-9a-f]{32}"$/);
      assert.ok(Array.isArray(first.body));
      const ids = first.body.map((p) => p.id);
      assert.deepEqual(ids, [...ids].sort((x, y) => x - y));
      const hits = await metric('craft_product_list_cache_hits_total');
      for (const path of ['/api/products', '/api/origamis']) {
        const again = await get(path, etag);
        // another test file may change the catalogue meanwhile: then a 200 with a new tag
        if (again.status === 200) assert.notEqual(again.headers.get('etag'), etag);
        else {
          assert.equal(again.status, 304);
          assert.equal(again.text, '');
          assert.equal(again.headers.get('etag'), etag);
        }
      }
      assert.ok((await metric('craft_product_list_cache_hits_total')) > hits, 'the list came from Redis');
    });

    test('a vote changes the list ETag and the list shows it', async () => {
      const before = await get('/api/products');
      const etag = before.headers.get('etag');
      const res = await vote(19, await tokenFor(uniqueUser('listetag')));
      assert.equal(res.status, 200);
      for (const path of ['/api/products', '/api/origamis']) {
        const after = await get(path, etag);
        assert.equal(after.status, 200);
        assert.notEqual(after.headers.get('etag'), etag);
        assert.equal(after.body.find((p) => p.id === 19).votes, res.body.new_vote_count);
      }
    });

    test('a withdrawal back to the same count still changes the ETag', async () => {
      const token = await tokenFor(uniqueUser('same'));
      const first = await get('/api/products');
      assert.equal((await vote(19, token)).status, 200);
      assert.equal((await vote(19, token, 'DELETE')).status, 200);
      const after = await get('/api/products', first.headers.get('etag'));
      assert.equal(after.status, 200);
      assert.notEqual(after.headers.get('etag'), first.headers.get('etag'));
    });

    test('created and deleted products appear in and leave the list at once', async () => {
      const admin = await tokenFor(uniqueUser('admin'), { role: 'admin' });
      await get('/api/products'); // a valid list in the cache
      const made = await getJson(`${base}/api/products`, { token: admin, json: { name: 'Cache Test Swan' } });
      assert.equal(made.status, 201);
      const id = made.body.id;
      assert.ok((await get('/api/products')).body.some((p) => p.id === id));
      const del = await getJson(`${base}/api/products/${id}`, { method: 'DELETE', token: admin });
      assert.equal(del.status, 200);
      assert.ok(!(await get('/api/origamis')).body.some((p) => p.id === id));
    });
  });

  describe('the list is never older than an acknowledged vote', () => {
    // Voters vote one at a time each (distinct users); acked[id] is the highest count
    // acknowledged so far. A reader notes the floors before it asks: the counts it is
    // shown may never be lower. Half the readers revalidate with their last ETag, so a
    // 304 is checked too (it stands for the body that ETag came with).
    async function race({ ids, voters, votesEach, readers, during }) {
      const acked = {};
      for (const id of ids) acked[id] = await dbVotes(id);
      let running = true;
      const failures = [];
      const stale = [];
      let reads = 0;
      let notModified = 0;
      const voterTasks = Array.from({ length: voters }, async (_, v) => {
        for (let i = 0; i < votesEach; i++) {
          const id = ids[(v + i) % ids.length];
          const res = await vote(id, await tokenFor(uniqueUser(`lrace${v}`)));
          if (res.status !== 200) failures.push(`vote ${res.status} ${res.text}`);
          else acked[id] = Math.max(acked[id], res.body.new_vote_count);
        }
      });
      const readerTasks = Array.from({ length: readers }, async (_, r) => {
        let held = null; // {etag, counts}
        while (running) {
          const floors = { ...acked };
          const path = r % 4 < 2 ? '/api/products' : '/api/origamis';
          const res = await get(path, r % 2 && held ? held.etag : undefined);
          reads++;
          let counts;
          if (res.status === 304) {
            notModified++;
            counts = held.counts;
          } else if (res.status === 200) {
            counts = Object.fromEntries(res.body.map((p) => [p.id, p.votes]));
            held = { etag: res.headers.get('etag'), counts };
          } else {
            failures.push(`read ${res.status} ${res.text}`);
            continue;
          }
          for (const id of ids) {
            if (!(counts[id] >= floors[id])) stale.push(`product ${id}: ${counts[id]} after ${floors[id]} was acknowledged (${res.status})`);
          }
        }
      });
      await during?.();
      await Promise.all(voterTasks);
      running = false;
      await Promise.all(readerTasks);
      return { failures, stale, reads, notModified, acked };
    }

    test('many readers racing many voters', async () => {
      const r = await race({ ids: [20, 21], voters: 8, votesEach: 30, readers: 12 });
      assert.deepEqual(r.failures, []);
      assert.deepEqual(r.stale.slice(0, 5), []);
      assert.ok(r.reads > 100, `only ${r.reads} reads`);
      const list = (await get('/api/products')).body;
      for (const id of [20, 21]) assert.equal(list.find((p) => p.id === id).votes, await dbVotes(id));
    });

    test('Redis stopped and restarted: no failed request, nothing stale after', async () => {
      const r = await race({
        ids: [22],
        voters: 6,
        votesEach: 40,
        readers: 8,
        during: async () => {
          await sleep(150);
          stack('redis-stop');
          await sleep(700);
          stack('redis-start');
        },
      });
      assert.deepEqual(r.failures, []);
      assert.deepEqual(r.stale.slice(0, 5), []);
      await waitTrusted();
      // a vote after the restart, then the list agrees with PostgreSQL everywhere
      const res = await vote(22, await tokenFor(uniqueUser('after')));
      assert.equal(res.status, 200);
      for (const path of ['/api/products', '/api/origamis']) {
        const list = (await get(path)).body;
        assert.equal(list.find((p) => p.id === 22).votes, await dbVotes(22));
        assert.equal(list.find((p) => p.id === 22).votes, res.body.new_vote_count);
      }
      const one = await get('/api/products/22');
      assert.equal(one.body.votes, res.body.new_vote_count);
    });
  });
});
