// Black-box tests of how the frontend gathers a page: backend calls run while the
// request is suspended (a frozen backend delays only the sections that need it),
// the catalogue and the origami of the day are revalidated with If-None-Match on
// every view (an unchanged catalogue costs a 304), and a vote acknowledged before a
// page request starts is always on that page, also with readers racing voters.
import { test, describe, before } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { urls, getJson, waitFor, varDir, stack } from './lib/stack.js';
import { tokenFor } from './lib/tokens.js';

const base = urls.frontend;
let seq = 0;
const uniqueUser = (p) => `${p}${process.pid % 10000}x${Date.now() % 100000}x${seq++}`;

/** The vote count a page shows for origami `id` (card or origami of the day). */
function shownVotes(html, id, where = 'vote-count') {
  const m = html.match(new RegExp(`class="${where}"[^>]*data-origami="${id}">(\\d+) votes?<`));
  return m ? Number(m[1]) : null;
}

/** GET on a connection of its own (none kept from before a restart): {status, body}. */
function fresh(pathname) {
  const u = new URL(base);
  return new Promise((resolve, reject) => {
    const req = http.request({ host: u.hostname, port: u.port, path: pathname, agent: false }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, body: Buffer.concat(chunks).toString() }));
    });
    req.on('error', reject);
    req.end();
  });
}

async function page(pathname = '/') {
  const res = await fresh(pathname);
  assert.equal(res.status, 200);
  return res.body;
}

async function vote(id, token, method = 'POST') {
  const res = await getJson(`${urls.product}/api/origamis/${id}/vote`, {
    method,
    headers: { authorization: `Bearer ${token}` },
  });
  assert.equal(res.status, 200, res.text);
  return res.body.new_vote_count;
}

async function metric(name) {
  const text = (await fresh('/metrics')).body;
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line ? Number(line.split(' ')[1]) : NaN;
}

function pidOf(name) {
  return Number(readFileSync(path.join(varDir, 'run', `${name}.pid`), 'utf8').trim());
}

describe('frontend: pages gathered without holding a server thread', () => {
  before(async () => { await waitFor(`${base}/health`, { status: 200, timeoutMs: 20000 }); });

  test('a page after an acknowledged vote shows it, in the card and in the origami of the day', async () => {
    const token = await tokenFor(uniqueUser('pagevote'));
    const before = await page('/');
    const shown = shownVotes(before, 2);
    assert.equal(typeof shown, 'number');
    const count = await vote(2, token);
    assert.equal(shownVotes(await page('/'), 2), count);
    const back = await vote(2, token, 'DELETE');
    assert.equal(shownVotes(await page('/'), 2), back);

    const daily = (await getJson(`${base}/daily-origami`)).body;
    const dcount = await vote(daily.id, token);
    assert.equal(shownVotes(await page('/'), daily.id, 'daily-votes'), dcount);
    assert.equal((await getJson(`${base}/daily-origami`)).body.votes, dcount);
    await vote(daily.id, token, 'DELETE');
  });

  test('pages racing voters never show a count older than a vote acknowledged before they started', async () => {
    const id = 3;
    const voters = await Promise.all(Array.from({ length: 16 }, () => tokenFor(uniqueUser('race'))));
    const acks = []; // {at, count}
    const reads = []; // {start, count}
    let voting = true;
    const voteLane = async (tokens) => {
      for (const t of tokens) {
        const count = await vote(id, t);
        acks.push({ at: performance.now(), count });
      }
    };
    const readLane = async () => {
      while (voting) {
        const start = performance.now();
        const count = shownVotes(await page('/'), id);
        reads.push({ start, count });
      }
    };
    const readers = Array.from({ length: 6 }, readLane);
    await Promise.all([0, 1, 2, 3].map((i) => voteLane(voters.slice(i * 4, i * 4 + 4))));
    voting = false;
    await Promise.all(readers);
    assert.ok(reads.length >= 6);
    for (const r of reads) {
      const due = Math.max(0, ...acks.filter((a) => a.at < r.start).map((a) => a.count));
      assert.ok(r.count >= due, `a page started after a vote counted ${due} showed ${r.count}`);
    }
    assert.equal(shownVotes(await page('/'), id), Math.max(...acks.map((a) => a.count)));
    await Promise.all(voters.map((t) => vote(id, t, 'DELETE')));
  });

  test('an unchanged catalogue costs a 304, not a fetch and a parse', async () => {
    await page('/');
    const sent0 = await metric('craft_frontend_catalogue_revalidations_total');
    const same0 = await metric('craft_frontend_catalogue_not_modified_total');
    const fetched0 = await metric('craft_frontend_catalogue_fetched_total');
    for (let i = 0; i < 5; i++) await page('/');
    assert.ok((await metric('craft_frontend_catalogue_revalidations_total')) >= sent0 + 5, 'revalidated on every view');
    assert.ok((await metric('craft_frontend_catalogue_not_modified_total')) >= same0 + 5);
    assert.equal(await metric('craft_frontend_catalogue_fetched_total'), fetched0);
    // the same for the origami of the day
    const dsame0 = await metric('craft_frontend_daily_not_modified_total');
    await page('/');
    assert.ok((await metric('craft_frontend_daily_not_modified_total')) > dsame0);
  });

  test('a frozen backend delays only the sections that need it; no page fails', async () => {
    // a long backend timeout, so that the order below holds on a slow machine too
    stack('svc-stop', 'frontend');
    stack('svc-start', 'frontend', { env: { BACKEND_TIMEOUT_MS: '4000' } });
    const pid = pidOf('recommendation');
    process.kill(pid, 'SIGSTOP');
    const order = [];
    try {
      const homes = Array.from({ length: 12 }, async () => {
        const res = await fresh('/');
        assert.equal(res.status, 200);
        order.push('home');
        return res.body;
      });
      // pages that do not need recommendation answer while the others wait
      const others = (async () => {
        await new Promise((r) => setTimeout(r, 100));
        for (const p of ['/fragments/cards?page=2', '/api/products', '/login']) {
          const res = await fresh(p);
          assert.equal(res.status, 200, p);
        }
        order.push('others');
      })();
      const pages = await Promise.all(homes);
      await others;
      assert.equal(order[0], 'others', `order: ${order.join(',')}`);
      for (const html of pages) {
        assert.match(html, /taking a break/);
        assert.equal((html.match(/<article[^>]*class="card/g) || []).length, 12);
      }
      assert.equal(JSON.parse((await fresh('/api/service-status')).body).Recommendation, 'down');
    } finally {
      process.kill(pid, 'SIGCONT');
      stack('svc-stop', 'frontend');
      stack('svc-start', 'frontend');
    }
    await waitFor(`${urls.recommendation}/health`, { status: 200 });
    assert.match((await fresh('/')).body, /class="daily-votes"/);
  });

  test('the status dashboard comes from the prober and says when it checked', async () => {
    const html = await page('/');
    assert.match(html, /Checked at \d\d:\d\d:\d\d UTC\./);
    // a backend that came back is shown up again by the next probe
    let status;
    for (let i = 0; i < 100; i++) {
      status = JSON.parse((await fresh('/api/service-status')).body);
      if (Object.values(status).every((v) => v === 'up')) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.deepEqual(Object.keys(status).sort(), ['Authentication', 'Catalogue', 'Recommendation', 'Voting']);
    for (const v of Object.values(status)) assert.equal(v, 'up');
  });
});
