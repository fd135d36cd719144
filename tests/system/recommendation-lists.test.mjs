// The most-voted lists are kept rendered per limit; every request must still show the
// rows as they are now: counts, order and text.
import { test, describe, before } from 'node:test';
import assert from 'node:assert/strict';
import { urls, getJson, waitFor, sql } from './lib/stack.js';

const top = (limit) => getJson(`${urls.recommendation}/api/recommendations?limit=${limit}`);

describe('recommendations kept rendered', () => {
  before(async () => {
    await waitFor(`${urls.recommendation}/health`, { status: 200, timeoutMs: 20000 });
  });

  test('each limit follows votes, renames and deletions at once', async () => {
    const [{ votes: saved }] = await sql('SELECT json_agg(json_build_array(id, votes)) AS votes FROM products');
    const [{ id: extra }] = await sql(
      `INSERT INTO products (name, description, votes) VALUES ('Origami Lily', 'Six petals.', 100000) RETURNING id`);
    try {
      for (const limit of [1, 3, 5, 50]) {
        const a = await top(limit);
        assert.equal(a.status, 200);
        assert.equal(a.body[0].id, extra);
        assert.deepEqual(await top(limit), a, 'unchanged rows: the same answer');
      }
      const before3 = (await top(3)).body;
      await sql(`UPDATE products SET votes = 100001 WHERE id = ${before3[1].id}`);
      const after3 = (await top(3)).body;
      assert.deepEqual(after3.slice(0, 2).map((p) => p.id), [before3[1].id, extra]);
      assert.equal(after3[0].votes, 100001);

      await sql(`UPDATE products SET description = 'Six petals, folded.' WHERE id = ${extra}`);
      assert.equal((await top(3)).body[1].description, 'Six petals, folded.');
      assert.equal((await top(1)).body[0].id, before3[1].id);

      await sql(`DELETE FROM products WHERE id = ${extra}`);
      const gone = (await top(50)).body;
      assert.ok(!gone.some((p) => p.id === extra));
      assert.ok(gone.length >= 24);
    } finally {
      await sql(`DELETE FROM products WHERE id = ${extra}`);
      for (const [id, votes] of saved) await sql(`UPDATE products SET votes = ${votes} WHERE id = ${id}`);
    }
  });
});
