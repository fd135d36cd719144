// Distributed tracing end to end: every service exports spans over OTLP/HTTP
// (JSON) to a test receiver; one request through the frontend must be one trace
// across frontend → product → PostgreSQL/Redis, linked by W3C traceparent, with
// OpenTelemetry attribute names and the resource attributes. A collector that is
// absent must never fail a request.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import crypto from 'node:crypto';
import net from 'node:net';
import zlib from 'node:zlib';
import { urls, stack, getJson, waitFor, freePort } from './lib/stack.js';
import { judgeTraceExport } from './lib/otlp-proto.js';

const SERVICES = ['auth', 'recommendation', 'product', 'frontend'];
const spans = []; // {service, resource, span}
const posts = []; // {url, headers, gzip} of every export received
const judged = []; // {doc, problems}: every export body against opentelemetry-proto
let server;
let port;

function restartAll(env) {
  for (const svc of SERVICES) {
    stack('svc-stop', svc);
    stack('svc-start', svc, { env });
  }
}

const attr = (list, key) => {
  const a = (list || []).find((x) => x.key === key);
  return a && (a.value.stringValue ?? a.value.intValue ?? a.value.boolValue);
};

async function traceOf(traceId, predicate, timeoutMs = 10000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = spans.filter((s) => s.span.traceId === traceId);
    if (predicate(found) || Date.now() > deadline) return found;
    await new Promise((r) => setTimeout(r, 100));
  }
}

const traceparent = () => {
  const traceId = crypto.randomBytes(16).toString('hex');
  const parentId = crypto.randomBytes(8).toString('hex');
  return { traceId, parentId, header: `00-${traceId}-${parentId}-01` };
};

describe('tracing', () => {
  before(async () => {
    port = await freePort();
    server = http.createServer((req, res) => {
      const chunks = [];
      req.on('data', (c) => chunks.push(c));
      req.on('end', () => {
        try {
          assert.ok(req.url === '/v1/traces' || req.url === '/custom/traces', req.url);
          assert.match(req.headers['content-type'], /application\/json/);
          let body = Buffer.concat(chunks);
          if (req.headers['content-encoding'] === 'gzip') body = zlib.gunzipSync(body);
          const doc = JSON.parse(body.toString());
          judged.push({ doc, problems: judgeTraceExport(doc) });
          posts.push({ url: req.url, headers: req.headers, gzip: req.headers['content-encoding'] === 'gzip' });
          for (const rs of doc.resourceSpans) {
            const service = attr(rs.resource.attributes, 'service.name');
            for (const ss of rs.scopeSpans) for (const span of ss.spans) spans.push({ service, resource: rs.resource.attributes, span });
          }
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end('{}');
        } catch {
          res.writeHead(400);
          res.end();
        }
      });
    });
    await new Promise((r) => server.listen(port, '127.0.0.1', r));
    restartAll({
      OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}`, OTEL_BSP_SCHEDULE_DELAY: '100', DEPLOYMENT_ENVIRONMENT: 'development',
      OTEL_RESOURCE_ATTRIBUTES: 'team=paper%20folders',
    });
    for (const svc of SERVICES) await waitFor(`${urls[svc]}/health`);
  });

  after(async () => {
    restartAll({});
    for (const svc of SERVICES) await waitFor(`${urls[svc]}/health`);
    server.close();
  });

  test('a vote through the frontend is one trace: frontend → product → PostgreSQL and Redis', async () => {
    const username = `trace${Date.now() % 1000000}`;
    const password = 'paper-trace-fold';
    assert.equal((await getJson(`${urls.frontend}/auth/register`, { json: { username, email: `${username}@example.com`, password } })).status, 201);
    const login = await fetch(`${urls.frontend}/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username, password }) });
    const cookie = login.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
    const tp = traceparent();
    const res = await fetch(`${urls.frontend}/api/origamis/5/vote`, { method: 'POST', headers: { cookie, traceparent: tp.header, accept: 'application/json' } });
    assert.equal(res.status, 200);
    await res.text();

    const found = await traceOf(tp.traceId, (f) => f.some((s) => s.service === 'product' && attr(s.span.attributes, 'db.system.name') === 'redis'));
    const byService = (svc, kind) => found.filter((s) => s.service === svc && s.span.kind === kind);
    const feServer = byService('frontend', 2);
    assert.equal(feServer.length, 1, 'one frontend server span');
    assert.equal(feServer[0].span.parentSpanId, tp.parentId, 'continues the incoming traceparent');
    assert.equal(feServer[0].span.name, 'POST /api/origamis/{id}/vote');
    assert.equal(attr(feServer[0].span.attributes, 'http.request.method'), 'POST');
    assert.equal(attr(feServer[0].span.attributes, 'http.route'), '/api/origamis/{id}/vote');
    assert.equal(String(attr(feServer[0].span.attributes, 'http.response.status_code')), '200');

    const feClient = byService('frontend', 3).find((s) => s.span.name.includes('/api/origamis/{id}/vote'));
    assert.ok(feClient, 'frontend client span to product');
    assert.equal(feClient.span.parentSpanId, feServer[0].span.spanId);
    const prServer = byService('product', 2);
    assert.equal(prServer.length, 1);
    assert.equal(prServer[0].span.parentSpanId, feClient.span.spanId, 'product continues the frontend client span');
    const db = byService('product', 3).filter((s) => attr(s.span.attributes, 'db.system.name') === 'postgresql');
    assert.ok(db.length >= 1, 'a PostgreSQL span');
    // the vote is a WITH whose first query inserts the vote
    assert.ok(db.some((s) => attr(s.span.attributes, 'db.operation.name') === 'INSERT'), 'the CTE is named by its operation');
    assert.ok(db.every((s) => attr(s.span.attributes, 'db.operation.name') !== 'WITH'));
    for (const s of db) {
      assert.equal(s.span.parentSpanId, prServer[0].span.spanId);
      assert.match(attr(s.span.attributes, 'db.query.text'), /\$1/);
      assert.doesNotMatch(attr(s.span.attributes, 'db.query.text'), new RegExp(username), 'never parameter values');
    }
    const redis = byService('product', 3).filter((s) => attr(s.span.attributes, 'db.system.name') === 'redis');
    assert.ok(redis.length >= 1, 'a Redis span');
    const resource = prServer[0].resource;
    assert.equal(attr(resource, 'service.name'), 'product');
    assert.equal(typeof attr(resource, 'service.version'), 'string');
    assert.equal(attr(resource, 'deployment.environment.name'), 'development');
    assert.match(attr(resource, 'service.instance.id'), /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    assert.equal(typeof attr(resource, 'telemetry.sdk.version'), 'string');
    assert.equal(attr(resource, 'team'), 'paper folders', 'OTEL_RESOURCE_ATTRIBUTES');
    // every process has its own instance id
    const ids = new Set(spans.filter((x) => x.service === 'frontend' || x.service === 'product').map((x) => `${x.service} ${attr(x.resource, 'service.instance.id')}`));
    const perService = new Map([...ids].map((x) => x.split(' ')));
    assert.notEqual(perService.get('frontend'), perService.get('product'));
    for (const s of found) {
      assert.match(s.span.spanId, /^[0-9a-f]{16}$/);
      assert.ok(BigInt(s.span.endTimeUnixNano) >= BigInt(s.span.startTimeUnixNano));
    }
  });

  test('a page view fans out: the frontend span parents calls to product and recommendation', async () => {
    const tp = traceparent();
    const res = await fetch(`${urls.frontend}/`, { headers: { traceparent: tp.header } });
    assert.equal(res.status, 200);
    await res.text();
    const found = await traceOf(tp.traceId, (f) => ['product', 'recommendation'].every((svc) => f.some((s) => s.service === svc && s.span.kind === 2)));
    const services = new Set(found.filter((s) => s.span.kind === 2).map((s) => s.service));
    for (const svc of ['frontend', 'product', 'recommendation']) assert.ok(services.has(svc), `${svc} in the trace`);
    // the status dashboard comes from the frontend's prober, not from a probe per view
    assert.ok(!services.has('auth'), 'no call to auth for an anonymous page view');
    const root = found.find((s) => s.service === 'frontend' && s.span.kind === 2);
    const clients = found.filter((s) => s.service === 'frontend' && s.span.kind === 3);
    assert.equal(clients.length, 2);
    for (const c of clients) assert.equal(c.span.parentSpanId, root.span.spanId);
    // the recommendation query is a child of recommendation's server span
    const recServer = found.find((s) => s.service === 'recommendation' && s.span.kind === 2);
    assert.ok(found.some((s) => s.service === 'recommendation' && s.span.kind === 3 && s.span.parentSpanId === recServer.span.spanId));
  });

  test('a path that is not valid UTF-8 is exported repaired, not dropped', async () => {
    const tp = traceparent();
    const tag = `u${Date.now()}`;
    await new Promise((resolve, reject) => {
      const u = new URL(urls.product);
      const sock = net.connect(Number(u.port), u.hostname, () => sock.end(Buffer.concat([
        Buffer.from(`GET /${tag}/`), Buffer.from([0xff]), Buffer.from(`?size=2&fold=valley HTTP/1.1\r\nHost: x\r\ntraceparent: ${tp.header}\r\nConnection: close\r\n\r\n`)])));
      sock.on('data', () => {});
      sock.on('end', resolve);
      sock.on('error', reject);
    });
    const found = await traceOf(tp.traceId, (f) => f.length >= 1);
    assert.equal(found.length, 1, 'the server span arrived');
    assert.equal(attr(found[0].span.attributes, 'url.path'), `/${tag}/\ufffd`);
    // server span attributes of the HTTP conventions
    assert.equal(attr(found[0].span.attributes, 'url.query'), 'size=2&fold=valley');
    assert.equal(attr(found[0].span.attributes, 'client.address'), '127.0.0.1');
    assert.equal(attr(found[0].span.attributes, 'network.protocol.version'), '1.1');
  });

  test('health probes and metrics scrapes are not traced', async () => {
    const probes = [];
    for (const svc of SERVICES) {
      for (const path of ['/health', '/metrics']) {
        const tp = traceparent();
        probes.push(tp.traceId);
        const res = await fetch(`${urls[svc]}${path}`, { headers: { traceparent: tp.header } });
        await res.arrayBuffer();
      }
    }
    const control = traceparent();
    await (await fetch(`${urls.product}/api/products/1`, { headers: { traceparent: control.header } })).arrayBuffer();
    await traceOf(control.traceId, (f) => f.length >= 1); // the exporters have sent what came before
    assert.deepEqual(spans.filter((x) => probes.includes(x.span.traceId)).map((x) => x.span.name), []);
  });

  test('the standard OTEL_* settings: traces endpoint, headers, gzip, sampler, disabled', async () => {
    const restartProduct = async (env) => {
      stack('svc-stop', 'product');
      stack('svc-start', 'product', { env: { DEPLOYMENT_ENVIRONMENT: 'development', OTEL_BSP_SCHEDULE_DELAY: '100', ...env } });
      await waitFor(`${urls.product}/health`);
    };
    const request = async (header) => {
      const res = await fetch(`${urls.product}/api/products/1`, { headers: header ? { traceparent: header } : {} });
      await res.arrayBuffer();
    };
    try {
      await restartProduct({
        OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:9', // the signal-specific URL wins
        OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `http://127.0.0.1:${port}/custom/traces`,
        OTEL_EXPORTER_OTLP_HEADERS: 'x-generic=1',
        OTEL_EXPORTER_OTLP_TRACES_HEADERS: 'authorization=Bearer%20paper-crane,x-team=folders',
        OTEL_EXPORTER_OTLP_COMPRESSION: 'gzip',
        OTEL_TRACES_SAMPLER: 'parentbased_always_off',
      });
      const sampled = traceparent();
      const unsampled = traceparent();
      const roots = () => spans.filter((x) => x.service === 'product' && !x.span.parentSpanId).length;
      const rootsBefore = roots();
      await request(sampled.header);
      await request(null); // a new trace: always_off
      await request(unsampled.header.replace(/-01$/, '-00'));
      const found = await traceOf(sampled.traceId, (f) => f.length >= 1);
      assert.ok(found.length >= 1, 'the sampled parent is followed');
      const post = posts.findLast((p) => p.url === '/custom/traces');
      assert.ok(post, 'sent to OTEL_EXPORTER_OTLP_TRACES_ENDPOINT as is');
      assert.equal(post.gzip, true);
      assert.equal(post.headers.authorization, 'Bearer paper-crane');
      assert.equal(post.headers['x-team'], 'folders');
      assert.equal(post.headers['x-generic'], undefined, 'the traces headers replace the generic ones');
      await new Promise((r) => setTimeout(r, 400));
      assert.equal(spans.filter((x) => x.span.traceId === unsampled.traceId).length, 0);
      assert.equal(roots(), rootsBefore, 'always_off for new traces');

      await restartProduct({ OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}`, OTEL_SDK_DISABLED: 'true' });
      const off = traceparent();
      await request(off.header);
      await new Promise((r) => setTimeout(r, 400));
      assert.equal(spans.filter((x) => x.span.traceId === off.traceId).length, 0, 'OTEL_SDK_DISABLED exports nothing');
    } finally {
      await restartProduct({ OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}` });
    }
  });

  test('a collector answering 503 with Retry-After gets the batch again', async () => {
    const flakyPort = await freePort();
    const received = [];
    let refused = 0;
    const flaky = http.createServer((req, res) => {
      const chunks = [];
      req.on('data', (c) => chunks.push(c));
      req.on('end', () => {
        if (refused < 1) {
          refused++;
          res.writeHead(503, { 'retry-after': '1' });
          res.end();
          return;
        }
        const doc = JSON.parse(Buffer.concat(chunks).toString());
        for (const rs of doc.resourceSpans) for (const ss of rs.scopeSpans) received.push(...ss.spans);
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{}');
      });
    });
    await new Promise((r) => flaky.listen(flakyPort, '127.0.0.1', r));
    const restartProduct = async (endpoint) => {
      stack('svc-stop', 'product');
      stack('svc-start', 'product', { env: { DEPLOYMENT_ENVIRONMENT: 'development', OTEL_BSP_SCHEDULE_DELAY: '100', OTEL_EXPORTER_OTLP_ENDPOINT: endpoint } });
      await waitFor(`${urls.product}/health`);
    };
    try {
      await restartProduct(`http://127.0.0.1:${flakyPort}`);
      const tp = traceparent();
      await (await fetch(`${urls.product}/api/products/2`, { headers: { traceparent: tp.header } })).arrayBuffer();
      for (let i = 0; i < 100 && !received.some((s) => s.traceId === tp.traceId); i++) await new Promise((r) => setTimeout(r, 100));
      assert.equal(refused, 1);
      assert.ok(received.some((s) => s.traceId === tp.traceId), 'the refused batch was sent again');
      const metrics = await (await fetch(`${urls.product}/metrics`)).text();
      assert.match(metrics, /^craft_span_export_retries_total(\{[^}]*\})? [1-9]/m);
    } finally {
      await restartProduct(`http://127.0.0.1:${port}`);
      flaky.close();
    }
  });

  test('an absent collector never fails a request; dropped spans are counted', async () => {
    const dead = await freePort();
    stack('svc-stop', 'recommendation');
    stack('svc-start', 'recommendation', { env: { OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${dead}`, OTEL_BSP_SCHEDULE_DELAY: '50' } });
    await waitFor(`${urls.recommendation}/health`);
    for (let i = 0; i < 30; i++) {
      const r = await getJson(`${urls.recommendation}/api/recommendations?limit=2`, { headers: { traceparent: traceparent().header } });
      assert.equal(r.status, 200);
    }
    let dropped = 0;
    for (let i = 0; i < 50 && dropped === 0; i++) {
      const m = await (await fetch(`${urls.recommendation}/metrics`)).text();
      dropped = Number((m.match(/^craft_spans_dropped_total (\d+)/m) || [0, 0])[1]);
      if (dropped === 0) await new Promise((r) => setTimeout(r, 100));
    }
    assert.ok(dropped > 0, 'spans counted as dropped');
  });

  test('every export is an ExportTraceServiceRequest of opentelemetry-proto, unchanged by a protobuf round trip', () => {
    const services = new Set(judged.flatMap(({ doc }) => doc.resourceSpans.map((rs) => attr(rs.resource.attributes, 'service.name'))));
    assert.deepEqual([...services].sort(), [...SERVICES].sort(), 'exports of every service were judged');
    assert.ok(judged.length >= SERVICES.length);
    assert.deepEqual(judged.flatMap(({ problems }) => problems), []);
  });

  test('the proto judge refuses what a collector would lose or alter', () => {
    const sample = judged.find(({ doc }) => doc.resourceSpans.some((rs) => rs.scopeSpans.some((ss) => ss.spans.some((sp) => sp.parentSpanId && sp.attributes?.length))));
    assert.ok(sample, 'a real export with a child span');
    const mutants = {
      'a misspelt field': (sp) => { sp.startTimeUnixNanos = sp.startTimeUnixNano; },
      'a short trace id': (sp) => { sp.traceId = sp.traceId.slice(1); },
      'an unknown span kind': (sp) => { sp.kind = 9; },
      'a time that is not an integer': (sp) => { sp.endTimeUnixNano = '12.5'; },
      'a name that is a number': (sp) => { sp.name = 42; },
      'an attribute with two values': (sp) => { sp.attributes[0].value = { stringValue: 'a', intValue: '1' }; },
      'a lone surrogate': (sp) => { sp.attributes[0].value = { stringValue: '\ud800' }; },
    };
    for (const [what, mutate] of Object.entries(mutants)) {
      const doc = structuredClone(sample.doc);
      const span = doc.resourceSpans.flatMap((rs) => rs.scopeSpans.flatMap((ss) => ss.spans)).find((sp) => sp.parentSpanId && sp.attributes?.length);
      mutate(span);
      assert.notDeepEqual(judgeTraceExport(doc), [], what);
    }
  });
});
