// Conditional requests on the origami of the day: a strong ETag, 304 for a matching
// If-None-Match, and never an answer older than a vote acknowledged before the request
// started (votes go through product with tokens from auth, as the shop does it).
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import {
  urls, getJson, waitFor, sql, databaseUrl, internalApiKey, freePort, binaryPath, repoRoot,
} from './lib/stack.js';
import { tokenFor } from './lib/tokens.js';

const psqlBin = ['/usr/bin/psql', '/usr/lib/postgresql/15/bin/psql'].find((p) => existsSync(p)) ?? 'psql';
const daily = `${urls.recommendation}/api/origami-of-the-day`;
let seq = 0;
const unique = (p) => `${p}${process.pid % 10000}_${Date.now() % 100000}_${seq++}`;

const get = (url, inm) => getJson(url, inm === undefined ? {} : { headers: { 'if-none-match': inm } });
const vote = (id, token, method = 'POST') =>
  getJson(`${urls.product}/api/origamis/${id}/vote`, { method, token });

/** A user registered and logged in through auth: its access token. */
async function loginToken(prefix) {
  const username = unique(prefix);
  const password = 'paper-crane-folds';
  const reg = await getJson(`${urls.auth}/api/auth/register`, {
    json: { username, email: `${username}@example.com`, password },
    headers: { 'x-internal-api-key': internalApiKey },
  });
  assert.equal(reg.status, 200, reg.text);
  const res = await getJson(`${urls.auth}/api/auth/login`, { json: { username, password } });
  assert.equal(res.status, 200, res.text);
  return res.body.access_token;
}

function assertStrongTag(tag) {
  assert.ok(tag, 'ETag header present');
  assert.match(tag, /^"[\x21\x23-\x7e]+"$/, `strong quoted entity tag: ${tag}`);
}

describe('origami of the day: ETag and 304', () => {
  before(async () => {
    await waitFor(`${urls.recommendation}/health`, { status: 200, timeoutMs: 20000 });
    await waitFor(`${urls.product}/health`, { status: 200, timeoutMs: 20000 });
  });

  test('200 carries a strong ETag that stays while nothing changes', async () => {
    const a = await get(daily);
    assert.equal(a.status, 200);
    assertStrongTag(a.headers.get('etag'));
    assert.match(a.headers.get('content-type'), /^application\/json/);
    assert.equal(Number(a.headers.get('content-length')), Buffer.byteLength(a.text));
    const b = await get(daily);
    assert.equal(b.headers.get('etag'), a.headers.get('etag'));
    assert.equal(b.text, a.text);
  });

  test('If-None-Match: 304 for the tag, a list holding it, W/ and *; 200 otherwise', async () => {
    const { headers, text } = await get(daily);
    const tag = headers.get('etag');
    for (const inm of [tag, `"nope", ${tag}`, `"a",${tag} , "b"`, `W/${tag}`, `W/"x", W/${tag}`, '*']) {
      const res = await get(daily, inm);
      assert.equal(res.status, 304, `If-None-Match: ${inm}`);
      assert.equal(res.text, '');
      assert.equal(res.headers.get('etag'), tag);
    }
    for (const inm of ['"nope"', `"${tag}"`, tag.slice(0, -2) + '"', 'garbage', '']) {
      const res = await get(daily, inm);
      assert.equal(res.status, 200, `If-None-Match: ${inm}`);
      assert.equal(res.text, text);
    }
    const head = await fetch(daily, { method: 'HEAD', headers: { 'if-none-match': tag } });
    assert.equal(head.status, 304);
  });

  test('a vote acknowledged through product changes the ETag and the votes of the next request', async () => {
    const first = await get(daily);
    const { id } = first.body;
    const token = await loginToken('etagvoter');
    const ack = await vote(id, token);
    assert.equal(ack.status, 200, ack.text);
    const after = await get(daily, first.headers.get('etag'));
    assert.equal(after.status, 200, 'the old tag no longer matches');
    assert.equal(after.body.id, id);
    assert.equal(after.body.votes, ack.body.new_vote_count);
    assert.notEqual(after.headers.get('etag'), first.headers.get('etag'));
    assert.equal((await get(daily, after.headers.get('etag'))).status, 304);

    const withdrawn = await vote(id, token, 'DELETE');
    assert.equal(withdrawn.status, 200, withdrawn.text);
    const back = await get(daily, after.headers.get('etag'));
    assert.equal(back.status, 200);
    assert.equal(back.body.votes, withdrawn.body.new_vote_count);
    assert.notEqual(back.headers.get('etag'), after.headers.get('etag'));
    assert.notEqual(back.headers.get('etag'), first.headers.get('etag'), 'tags never repeat');
  });

  test('a change made behind product\'s back still changes the answer and its tag', async () => {
    const first = await get(daily);
    const { id, name } = first.body;
    await sql(`UPDATE products SET name = name || ' (renamed)' WHERE id = ${id}`);
    try {
      const res = await get(daily, first.headers.get('etag'));
      assert.equal(res.status, 200);
      assert.equal(res.body.name, `${name} (renamed)`);
      assert.notEqual(res.headers.get('etag'), first.headers.get('etag'));
    } finally {
      await sql(`UPDATE products SET name = '${name.replaceAll("'", "''")}' WHERE id = ${id}`);
    }
    assert.equal((await get(daily)).body.name, name);
  });

  test('readers racing voters never see a count older than an acknowledged vote', async () => {
    const { body: start, headers } = await get(daily);
    const id = start.id;
    let acked = start.votes;
    const tokens = await Promise.all(Array.from({ length: 4 }, (_, i) => loginToken(`race${i}`)));
    for (let i = 0; i < 60; i++) tokens.push(await tokenFor(unique('racer')));
    const failures = [];
    const stale = [];
    let reads = 0;
    let running = true;
    const readers = Array.from({ length: 8 }, async (_, r) => {
      // half revalidate with the last tag they saw, as the frontend does
      let tag = r % 2 ? headers.get('etag') : undefined;
      let known = start.votes;
      while (running) {
        const floor = acked;
        const res = await get(daily, tag);
        reads++;
        if (res.status === 200) {
          known = res.body.votes;
          if (r % 2) tag = res.headers.get('etag');
        } else if (res.status !== 304) {
          failures.push(`read ${res.status} ${res.text}`);
          continue;
        }
        if (known < floor) stale.push(`read ${known} (${res.status}) after ${floor} was acknowledged`);
      }
    });
    await Promise.all(Array.from({ length: 4 }, async (_, v) => {
      for (let i = v; i < tokens.length; i += 4) {
        const res = await vote(id, tokens[i]);
        if (res.status !== 200) failures.push(`vote ${res.status} ${res.text}`);
        else acked = Math.max(acked, res.body.new_vote_count);
      }
    }));
    running = false;
    await Promise.all(readers);
    assert.deepEqual(failures, []);
    assert.deepEqual(stale, []);
    assert.ok(reads > 50, `only ${reads} reads`);
    const end = await get(daily);
    assert.equal(end.body.votes, start.votes + tokens.length);
    const [row] = await sql(`SELECT votes FROM products WHERE id = ${id}`);
    assert.equal(end.body.votes, Number(row.votes));
  });
});

// A replica of its own over a database of its own, so the catalogue can be emptied.
describe('origami of the day when products go away', () => {
  const dbName = `craft_etag_${process.pid}`;
  const dbUrl = Object.assign(new URL(databaseUrl), { pathname: `/${dbName}` }).toString();
  let child;
  let base;
  const psql = (args) => new Promise((resolve, reject) => {
    execFile(psqlBin, ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', dbUrl, ...args], (err, out, stderr) =>
      (err ? reject(new Error(stderr || err.message)) : resolve(out)));
  });
  const own = (q) => psql(['-A', '-t', '-c', q]);

  before(async () => {
    await sql(`CREATE DATABASE ${dbName}`);
    // migrated as every database is, so the service's readiness sees the schema
    const migrate = path.join(path.dirname(path.dirname(path.dirname(binaryPath('recommendation')))), 'tools', 'craft-migrate');
    await new Promise((resolve, reject) => {
      execFile(migrate, [path.join(repoRoot, 'db/migrations')], { env: { ...process.env, DATABASE_URL: dbUrl } },
        (err, out, stderr) => (err ? reject(new Error(stderr || err.message)) : resolve()));
    });
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    child = spawn(binaryPath('recommendation'), [], {
      env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'warn', DATABASE_URL: dbUrl },
      stdio: 'ignore',
    });
    await waitFor(`${base}/health`, { status: 200, timeoutMs: 20000 });
  });

  after(async () => {
    if (child) {
      child.kill('SIGTERM');
      await new Promise((r) => (child.exitCode !== null ? r() : child.once('exit', r)));
    }
    await sql(`DROP DATABASE IF EXISTS ${dbName}`);
  });

  test('the day\'s product deleted: a new pick with a new tag; catalogue emptied: 404', async () => {
    const first = await get(`${base}/api/origami-of-the-day`);
    assert.equal(first.status, 200);
    await own(`DELETE FROM products WHERE id = ${first.body.id}`);
    const second = await get(`${base}/api/origami-of-the-day`, first.headers.get('etag'));
    assert.equal(second.status, 200);
    assert.notEqual(second.body.id, first.body.id);
    assert.notEqual(second.headers.get('etag'), first.headers.get('etag'));
    const today = new Date().toISOString().slice(0, 10);
    assert.equal(Number(await own(`SELECT product_id FROM origami_of_the_day WHERE day = '${today}'`)),
      second.body.id);

    await own('DELETE FROM products');
    const none = await get(`${base}/api/origami-of-the-day`, second.headers.get('etag'));
    assert.equal(none.status, 404);
    assert.equal(none.body.status_code, 404);
    assert.equal(none.headers.get('etag'), null);

    await own(`INSERT INTO products (name, description) VALUES ('Origami Star', 'Five points.')`);
    const back = await get(`${base}/api/origami-of-the-day`);
    assert.equal(back.status, 200);
    assert.equal(back.body.name, 'Origami Star');
    assertStrongTag(back.headers.get('etag'));
  });
});
