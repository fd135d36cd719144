// Black-box tests of the recommendation service over HTTP, against the real
// binary, PostgreSQL and the stack scripts (see scripts/test.sh).
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { readFileSync } from 'node:fs';
import { urls, stack, getJson, waitFor, sql, logPath } from './lib/stack.js';

const base = urls.recommendation;

function assertProduct(p) {
  assert.equal(typeof p.id, 'number');
  assert.ok(Number.isInteger(p.id) && p.id > 0);
  assert.equal(typeof p.name, 'string');
  assert.ok(p.name.length > 0);
  assert.equal(typeof p.description, 'string');
  assert.match(p.image_url, /^\/static\/images\/origami\/[a-z0-9-]+\.svg$/);
  assert.ok(Number.isInteger(p.votes) && p.votes >= 0);
  assert.deepEqual(Object.keys(p).sort(), ['description', 'id', 'image_url', 'name', 'votes']);
}

function assertError(res, status, path) {
  assert.equal(res.status, status);
  assert.match(res.headers.get('content-type'), /^application\/json/);
  assert.equal(res.body.status_code, status);
  assert.equal(res.body.path, path);
  assert.equal(typeof res.body.error, 'string');
  assert.ok(res.body.error.length > 0);
}

describe('recommendation service', () => {
  before(async () => {
    await waitFor(`${base}/health`, { status: 200, timeoutMs: 20000 });
  });

  test('home page is HTML with service facts, API links and security headers', async () => {
    const res = await fetch(`${base}/`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type'), /^text\/html; charset=utf-8/);
    const csp = res.headers.get('content-security-policy');
    assert.ok(csp && !csp.includes('unsafe-inline'));
    assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
    assert.ok(res.headers.get('referrer-policy'));
    assert.equal(res.headers.get('x-frame-options'), 'DENY');
    const html = await res.text();
    assert.equal(Number(res.headers.get('content-length')), Buffer.byteLength(html));
    assert.match(html, /Recommendation service/);
    assert.match(html, /href="\/api\/origami-of-the-day"/);
    assert.match(html, /Hostname<\/dt><dd>[^<]+<\/dd>/);
    assert.match(html, /IP address<\/dt><dd>[^<]+<\/dd>/);
    const css = await fetch(`${base}/service.css`);
    assert.equal(css.status, 200);
    assert.match(css.headers.get('content-type'), /^text\/css/);
  });

  test('health reports healthy with timestamp and version', async () => {
    const res = await getJson(`${base}/health`);
    assert.equal(res.status, 200);
    assert.equal(res.body.status, 'healthy');
    assert.match(res.body.timestamp, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    assert.equal(typeof res.body.version, 'string');
    assert.equal(res.body.checks.database, 'up');
  });

  test('origami of the day is a product, stable across calls, recorded for the UTC day', async () => {
    const answers = await Promise.all(
      Array.from({ length: 8 }, () => getJson(`${base}/api/origami-of-the-day`)));
    for (const a of answers) {
      assert.equal(a.status, 200);
      assertProduct(a.body);
      assert.equal(a.body.id, answers[0].body.id);
    }
    const today = new Date().toISOString().slice(0, 10);
    const rows = await sql(`SELECT product_id FROM origami_of_the_day WHERE day = '${today}'`);
    assert.equal(rows.length, 1);
    assert.equal(Number(rows[0].product_id), answers[0].body.id);
  });

  test('origami of the day carries the current vote count', async () => {
    const { body } = await getJson(`${base}/api/origami-of-the-day`);
    await sql(`UPDATE products SET votes = votes + 7 WHERE id = ${body.id}`);
    try {
      const again = await getJson(`${base}/api/origami-of-the-day`);
      assert.equal(again.body.id, body.id);
      assert.equal(again.body.votes, body.votes + 7);
    } finally {
      await sql(`UPDATE products SET votes = votes - 7 WHERE id = ${body.id}`);
    }
  });

  test('recommendations: most voted first, ties by id, default limit 5', async () => {
    await sql('UPDATE products SET votes = 0');
    await sql('UPDATE products SET votes = 9 WHERE id = 7');
    await sql('UPDATE products SET votes = 4 WHERE id IN (12, 3)');
    try {
      const res = await getJson(`${base}/api/recommendations`);
      assert.equal(res.status, 200);
      assert.ok(Array.isArray(res.body));
      assert.equal(res.body.length, 5);
      res.body.forEach(assertProduct);
      assert.deepEqual(res.body.map((p) => p.id), [7, 3, 12, 1, 2]);
      assert.deepEqual(res.body.map((p) => p.votes), [9, 4, 4, 0, 0]);
    } finally {
      await sql('UPDATE products SET votes = 0');
    }
  });

  test('recommendations honour limit 1 and 50', async () => {
    const one = await getJson(`${base}/api/recommendations?limit=1`);
    assert.equal(one.status, 200);
    assert.equal(one.body.length, 1);
    const [{ count }] = await sql('SELECT count(*) AS count FROM products');
    const all = await getJson(`${base}/api/recommendations?limit=50`);
    assert.equal(all.status, 200);
    assert.equal(all.body.length, Math.min(50, Number(count)));
    assert.ok(Number(count) >= 24);
  });

  for (const bad of ['0', '51', '-1', 'abc', '1.5', '', '%20', '99999999999999999999', '5x']) {
    test(`recommendations reject limit=${JSON.stringify(bad)} with 400`, async () => {
      const res = await getJson(`${base}/api/recommendations?limit=${bad}`);
      assertError(res, 400, '/api/recommendations');
      assert.match(res.body.error, /limit/);
    });
  }

  test('status is operational with the database up', async () => {
    const res = await getJson(`${base}/api/recommendation-status`);
    assert.equal(res.status, 200);
    assert.equal(res.body.status, 'operational');
    assert.equal(res.body.database_status, 'operational');
  });

  test('unknown path: 404 JSON error', async () => {
    const res = await getJson(`${base}/api/nope`);
    assertError(res, 404, '/api/nope');
  });

  test('wrong method: 405 with Allow', async () => {
    const res = await getJson(`${base}/api/recommendations`, { method: 'POST', body: '{}' });
    assertError(res, 405, '/api/recommendations');
    assert.equal(res.headers.get('allow'), 'GET, HEAD');
  });

  test('HEAD answers like GET without a body', async () => {
    const res = await fetch(`${base}/api/recommendations`, { method: 'HEAD' });
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type'), /^application\/json/);
    assert.equal(await res.text(), '');
  });

  test('body over the limit: 413 (declared length and chunked)', async () => {
    const big = 'x'.repeat(2 * 1024 * 1024);
    const res = await getJson(`${base}/api/recommendations`, { method: 'POST', body: big });
    assertError(res, 413, '/api/recommendations');
    // chunked: no Content-Length, the server counts while reading
    const status = await new Promise((resolve, reject) => {
      const u = new URL(`${base}/api/recommendations`);
      const req = http.request({ host: u.hostname, port: u.port, path: u.pathname, method: 'POST',
        headers: { 'Transfer-Encoding': 'chunked' } }, (r) => { r.resume(); resolve(r.statusCode); });
      req.on('error', reject);
      for (let i = 0; i < 32; i++) req.write(Buffer.alloc(128 * 1024, 'y'));
      req.end();
    });
    assert.equal(status, 413);
  });

  test('connections are kept alive across requests', async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const ports = [];
    for (let i = 0; i < 3; i++) {
      const { headers, localPort } = await new Promise((resolve, reject) => {
        const req = http.get(`${base}/api/recommendations?limit=1`, { agent }, (r) => {
          r.resume();
          r.on('end', () => resolve({ headers: r.headers, localPort: req.socket.localPort }));
        });
        req.on('error', reject);
      });
      assert.notEqual(headers.connection, 'close');
      ports.push(localPort);
    }
    agent.destroy();
    assert.equal(new Set(ports).size, 1, 'one socket served every request');
  });

  test('an incoming traceparent continues the trace in the access log', async () => {
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const res = await fetch(`${base}/api/recommendations?limit=2`, {
      headers: { traceparent: `00-${traceId}-00f067aa0ba902b7-01` },
    });
    assert.equal(res.status, 200);
    await res.text();
    let line;
    for (let i = 0; i < 50 && !line; i++) {
      line = readFileSync(logPath('recommendation'), 'utf8').split('\n')
        .find((l) => l.includes(traceId));
      if (!line) await new Promise((r) => setTimeout(r, 100));
    }
    assert.ok(line, 'access log line with the trace id');
    const entry = JSON.parse(line);
    assert.equal(entry.trace_id, traceId);
    assert.match(entry.span_id, /^[0-9a-f]{16}$/);
    assert.notEqual(entry.span_id, '00f067aa0ba902b7');
    assert.equal(entry.status, 200);
    assert.equal(entry.route, '/api/recommendations');
  });

  test('metrics expose request counts by route', async () => {
    await fetch(`${base}/api/recommendations?limit=1`).then((r) => r.text());
    const res = await fetch(`${base}/metrics`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type'), /^text\/plain; version=0\.0\.4/);
    const text = await res.text();
    assert.match(text, /craft_http_requests_total\{[^}]*route="\/api\/recommendations"[^}]*\} \d+/);
    assert.match(text, /craft_pg_pool_size \d+/);
    assert.match(text, /process_resident_memory_bytes \d+/);
  });

  test('survives a PostgreSQL restart: 503 while down, answers again after', async () => {
    stack('pg-stop');
    try {
      const health = await getJson(`${base}/health`);
      assert.equal(health.status, 503);
      assert.equal(health.body.status, 'unhealthy');
      assert.equal(health.body.checks.database, 'down');
      const status = await getJson(`${base}/api/recommendation-status`);
      assert.equal(status.status, 200);
      assert.equal(status.body.status, 'degraded');
      assert.equal(status.body.database_status, 'down');
      const day = await getJson(`${base}/api/origami-of-the-day`);
      assertError(day, 503, '/api/origami-of-the-day');
      const recs = await getJson(`${base}/api/recommendations`);
      assertError(recs, 503, '/api/recommendations');
    } finally {
      stack('pg-start');
    }
    await waitFor(`${base}/health`, { status: 200, timeoutMs: 20000 });
    const day = await getJson(`${base}/api/origami-of-the-day`);
    assert.equal(day.status, 200);
    assertProduct(day.body);
    const recs = await getJson(`${base}/api/recommendations?limit=3`);
    assert.equal(recs.status, 200);
    assert.equal(recs.body.length, 3);
  });
});
