// An OTLP/HTTP (JSON) sink, the stand-in for the collector and for Jaeger in
// scripts/compose-test.sh. Node.js only, no packages.
//
//   node otlp-sink.mjs forward URL   accept POST /v1/traces on 4318 and pass each body
//                                    on to URL (the collector's part)
//   node otlp-sink.mjs record        accept POST /v1/traces on 4318 and keep, per
//                                    service.name, how many spans came and their names
//                                    (bounded); GET /api/services on 16686 answers
//                                    {"data": [names]} as Jaeger's query API does, and
//                                    GET /api/spans {"services": {name: {spans, names}}}
import http from 'node:http';
import zlib from 'node:zlib';

const MAX_BODY = 8 << 20;
const MAX_SERVICES = 64;
const MAX_NAMES = 256;
const [mode, target] = process.argv.slice(2);
if (!['forward', 'record'].includes(mode) || (mode === 'forward' && !target)) {
  console.error('usage: otlp-sink.mjs forward URL | record');
  process.exit(2);
}

const services = new Map(); // service.name -> { spans, names: Set }

function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let size = 0;
    req.on('data', (c) => {
      size += c.length;
      if (size > MAX_BODY) {
        reject(new Error('body too large'));
        req.destroy();
      } else chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function record(body, encoding) {
  const raw = encoding === 'gzip' ? zlib.gunzipSync(body, { maxOutputLength: MAX_BODY }) : body;
  const doc = JSON.parse(raw.toString('utf8'));
  for (const rs of doc.resourceSpans ?? []) {
    const attr = (rs.resource?.attributes ?? []).find((a) => a.key === 'service.name');
    const name = attr?.value?.stringValue ?? '(unknown)';
    if (!services.has(name) && services.size >= MAX_SERVICES) continue;
    const entry = services.get(name) ?? { spans: 0, names: new Set() };
    services.set(name, entry);
    for (const ss of rs.scopeSpans ?? []) {
      for (const span of ss.spans ?? []) {
        entry.spans++;
        if (entry.names.size < MAX_NAMES) entry.names.add(span.name);
      }
    }
  }
}

async function forward(body, headers) {
  const res = await fetch(target, {
    method: 'POST',
    body,
    headers: { 'content-type': headers['content-type'] ?? 'application/json',
      ...(headers['content-encoding'] ? { 'content-encoding': headers['content-encoding'] } : {}) },
    signal: AbortSignal.timeout(5000),
  });
  await res.arrayBuffer();
  if (!res.ok) throw new Error(`forward: ${res.status}`);
}

function send(res, status, obj) {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(obj));
}

http.createServer(async (req, res) => {
  if (req.method !== 'POST' || req.url !== '/v1/traces') return send(res, 404, { error: 'not found' });
  try {
    const body = await readBody(req);
    if (mode === 'forward') await forward(body, req.headers);
    else record(body, req.headers['content-encoding']);
    send(res, 200, {});
  } catch (err) {
    console.error(`otlp-sink: ${err.message}`);
    send(res, 400, { error: err.message });
  }
}).listen(4318, '0.0.0.0');

if (mode === 'record') {
  http.createServer((req, res) => {
    if (req.method === 'GET' && req.url === '/api/services') return send(res, 200, { data: [...services.keys()] });
    if (req.method === 'GET' && req.url === '/api/spans') {
      const out = Object.fromEntries([...services].map(([k, v]) => [k, { spans: v.spans, names: [...v.names] }]));
      return send(res, 200, { services: out });
    }
    send(res, 404, { error: 'not found' });
  }).listen(16686, '0.0.0.0');
}

for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => process.exit(0));
console.log(`otlp-sink: ${mode}${target ? ` to ${target}` : ''}, listening`);
