// mutate.mjs - proves that check.mjs catches real mistakes (run by
// scripts/deploy-check.sh after the check itself).
//
//   node tests/deploy/mutate.mjs [REPO]
//
// Copies what the check reads (the deployment files and the C sources) into a
// temporary folder, then for each mutation below: a fresh copy, one mistake
// injected, check.mjs's runChecks() on it (in worker threads, a few at a time). The mutation passes when the check fails and
// one of its messages names the mistake (`expect`). The unmutated copy must
// pass. A mutation whose text is no longer found fails too, so the list cannot
// silently stop testing anything. Exit 0 when every mutation was caught.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { runChecks } from './check.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const REPO = path.resolve(process.argv[2] || path.join(HERE, '../..'));
const COPY = ['CMakeLists.txt', 'Dockerfile', '.dockerignore', 'docker-compose.yml', 'deploy', 'lib', 'services', 'tools', 'db', 'scripts/image-rootfs.sh'];
const PARALLEL = Math.max(1, Math.min(4, os.availableParallelism?.() ?? 2));

const K = 'deploy/k8s/base';
const NETPOL = `${K}/network-policies.yaml`;
const policyPeer = (target, peer) => new RegExp(`(app.kubernetes.io/name: ${target}\\n[\\s\\S]*?- from:\\n\\s+- podSelector:\\n\\s+matchLabels:\\n\\s+app.kubernetes.io/name: )${peer}`);

// [name, file, [[from (string or RegExp), to], ...], expect]
const MUTATIONS = [
  ['an OTLP endpoint variable misspelt in the ConfigMap', `${K}/config.yaml`,
    [['OTEL_EXPORTER_OTLP_ENDPOINT:', 'OTEL_EXPORTER_OTLP_ENDPONT:']], /OTEL_EXPORTER_OTLP_ENDPONT is read by none/],
  ['an unknown collector processor', 'deploy/otel-collector.yaml',
    [['  batch:\n', '  batcher:\n'], ['[memory_limiter, batch]', '[memory_limiter, batcher]']], /unknown processor type batcher/],
  ["compose's postgres:15 -> postgres:9", 'docker-compose.yml',
    [[/image: postgres:15[\d.]*/, 'image: postgres:9']], /postgres:9: PostgreSQL 9 is older than the supported 15/],
  ['the manifests pinned to PostgreSQL 9', `${K}/postgres.yaml`,
    [[/image: postgres:15[\d.]*/, 'image: postgres:9.6.24']], /postgres:9\.6\.24: PostgreSQL 9 is older than the supported 15/],
  ["compose's POSTGRES_PORT changed", 'docker-compose.yml',
    [['  POSTGRES_PORT: "5432"', '  POSTGRES_PORT: "5433"']], /POSTGRES_PORT=5433, but postgres listens on 5432/],
  ['a liveness probe path that no route serves', `${K}/frontend.yaml`,
    [[/(livenessProbe:\n\s+httpGet:\n\s+path: )\/about/, '$1/alive']], /livenessProbe: GET \/alive is served by no route of frontend/],
  ['a compose health-check path that no route serves', 'docker-compose.yml',
    [['"/usr/local/bin/craft-healthcheck", "/health"]', '"/usr/local/bin/craft-healthcheck", "/healthz"]']],
    /health check GET \/healthz is served by no route/],
  ['a floating tag in the manifests', `${K}/redis.yaml`,
    [[/image: redis:7[\d.]*/, 'image: redis:7']], /redis:7: floating tag 7/],
  ['a floating tag in compose', 'docker-compose.yml',
    [[/jaegertracing\/all-in-one:[\w.]+/, 'jaegertracing/all-in-one:latest']], /jaegertracing\/all-in-one:latest: floating tag latest/],
  ['a NetworkPolicy that no longer lets the frontend reach product', NETPOL,
    [[policyPeer('product', 'frontend'), '$1recommendation']], /frontend -> product:8000 \(\w+\) is blocked/],
  ['a NetworkPolicy that no longer lets product reach auth (JWKS)', NETPOL,
    [[/(app.kubernetes.io\/name: auth\n[\s\S]*?app.kubernetes.io\/name: )product/, '$1recommendation']],
    /product -> auth:8082 \(\w+\) is blocked/],
  ['a NetworkPolicy that lets the frontend reach PostgreSQL', NETPOL,
    [[/(app.kubernetes.io\/name: migrate\n\s+app.kubernetes.io\/part-of: craftista\n)/,
      '$1        - podSelector:\n            matchLabels:\n              app.kubernetes.io/name: frontend\n']],
    /frontend -> postgres:5432 is allowed, but nothing in the configuration needs it/],
  ['no default deny and no policy for Redis', NETPOL,
    [[/app.kubernetes.io\/name: redis\n\s+app.kubernetes.io\/part-of: craftista\n/, 'app.kubernetes.io/name: no-such-pod\n'],
      [/podSelector: \{\}\n\s+policyTypes: \[Ingress\]/, 'podSelector: {matchLabels: {none: none}}\n  policyTypes: [Ingress]']],
    /a pod of another namespace -> redis:6379 is allowed/],
  ['an HPA maximum beyond the PostgreSQL connection budget', `${K}/autoscaling.yaml`,
    [[/(name: product\n[\s\S]*?maxReplicas: )\d+/, '$130']], /connections > max_connections 120/],
  ['PG_POOL_SIZE 0 (one connection per node core)', `${K}/config.yaml`,
    [['PG_POOL_SIZE: "4"', 'PG_POOL_SIZE: "0"']], /PG_POOL_SIZE is 0 .*the budget has no bound/],
  ['an Ingress that routes /metrics and /health', `${K}/ingress.yaml`,
    [[/(- path: \/\n\s+pathType: )Exact/, '$1Prefix']], /GET \/metrics \(service_metrics\) is routed from outside/],
  ['an Ingress that misses a public route', `${K}/ingress.yaml`,
    [[/\s+- path: \/daily-origami\n\s+pathType: Exact\n\s+backend: \*frontend/, '']],
    /GET \/daily-origami is a public route the Ingress does not route/],
  ["Jaeger's trace cap beyond its memory limit", `${K}/jaeger.yaml`,
    [[/(MEMORY_MAX_TRACES\n\s+value: )"\d+"/, '$1"50000"']], /MEMORY_MAX_TRACES=50000 needs about \d+ MiB/],
  ['a collector pipeline naming an undefined exporter', 'deploy/otel-collector.yaml',
    [['exporters: [otlp/jaeger]', 'exporters: [otlp/tempo]']], /exporter otlp\/tempo is not defined/],
  ['a variable misspelt in a Deployment', `${K}/auth.yaml`,
    [['- name: BCRYPT_WORKERS', '- name: BCRYPT_WORKER']], /BCRYPT_WORKER is not a variable craft-auth reads/],
  ['a variable misspelt in compose', 'docker-compose.yml',
    [['RECOMMENDATION_BASE_URI:', 'RECOMENDATION_BASE_URI:']], /RECOMENDATION_BASE_URI is not a variable craft-frontend reads/],
  ['a ConfigMap value the service would refuse at start', `${K}/config.yaml`,
    [['THREADS: "4"', 'THREADS: "four"']], /THREADS=four is not a whole number/],
  ['a compose value of the wrong type', 'docker-compose.yml',
    [['COOKIE_SECURE: "false"', 'COOKIE_SECURE: "nope"']], /COOKIE_SECURE=nope is not a boolean/],
  ['a Deployment value out of its declared bounds', `${K}/auth.yaml`,
    [[/(name: BCRYPT_WORKERS\n\s+value: )"\d+"/, '$1"1000"']], /BCRYPT_WORKERS=1000 is outside 0..64/],
  ["the ConfigMap's POSTGRES_PORT not PostgreSQL's", `${K}/config.yaml`,
    [['POSTGRES_PORT: "5432"', 'POSTGRES_PORT: "5433"']], /POSTGRES_PORT=5433: Service postgres has no port 5433/],
  ['the development overlay scaling auth, whose keys are its own', 'deploy/k8s/overlays/development/hpa-auth.yaml',
    [[/(maxReplicas\n\s+value: )1/, '$12']], /auth: its keys .* must run one replica, not up to 2/],
  ['a Deployment that sets replicas under its autoscaler', `${K}/product.yaml`,
    [['  revisionHistoryLimit: 5', '  replicas: 2\n  revisionHistoryLimit: 5']], /product: the Deployment sets replicas/],
  ['a preStop hook that needs a shell tool the image does not hold', `${K}/product.yaml`,
    [['command: ["/usr/local/bin/craft-healthcheck", "--pause", "5"]', 'command: ["sleep", "5"]']],
    /product: lifecycle.preStop runs "sleep", which the image does not hold/],
  ["the collector's OTLP/HTTP receiver moved off the services' endpoint", 'deploy/otel-collector.yaml',
    [['endpoint: 0.0.0.0:4318', 'endpoint: 0.0.0.0:4319']],
    /OTEL_EXPORTER_OTLP_ENDPOINT=http:\/\/otel-collector:4318: otel-collector listens on 4319/],
];

function copyTree(from, to) {
  for (const rel of COPY) {
    const src = path.join(from, rel);
    if (!fs.existsSync(src)) continue;
    fs.cpSync(src, path.join(to, rel), {
      recursive: true,
      filter: (p) => !/(^|\/)(node_modules|build[^/]*|\.git)$/.test(path.relative(from, p)) && !p.endsWith('/secrets.env'),
    });
  }
}

function mutate(dir, file, edits) {
  const abs = path.join(dir, file);
  let text = fs.readFileSync(abs, 'utf8');
  for (const [from, to] of edits) {
    const found = typeof from === 'string' ? text.includes(from) : from.test(text);
    if (!found) throw new Error(`${file}: ${from} is not there any more (update the mutation)`);
    text = typeof from === 'string' ? text.replace(from, to) : text.replace(from, to);
  }
  fs.writeFileSync(abs, text);
}

async function runCheck(dir) {
  const lines = [];
  const r = await runChecks(dir, (l) => lines.push(l));
  return { code: r.failed ? 1 : 0, out: lines.join('\n') };
}

// The failed checks of a run, with their messages.
const failures = (out) => out.split(/\n(?=\S)/).filter((b) => b.startsWith('not ok'));

async function one(pristine, tmp, i, [name, file, edits, expect]) {
  const dir = path.join(tmp, `m${i}`);
  fs.cpSync(pristine, dir, { recursive: true });
  try {
    mutate(dir, file, edits);
  } catch (err) {
    return { name, ok: false, why: err.message };
  }
  const r = await runCheck(dir);
  fs.rmSync(dir, { recursive: true, force: true });
  const caught = failures(r.out).flatMap((b) => b.split('\n')).find((l) => expect.test(l));
  if (r.code !== 0 && caught) return { name, ok: true, why: caught.trim() };
  return { name, ok: false, why: r.code === 0 ? 'the check passed' : `no message matches ${expect}:\n${failures(r.out).join('\n')}` };
}

// A worker: the mutations of workerData.indices, one after the other.
async function work({ pristine, tmp, indices }) {
  for (const i of indices) parentPort.postMessage({ i, r: await one(pristine, tmp, i, MUTATIONS[i]) });
}

function spread(pristine, tmp) {
  const results = new Array(MUTATIONS.length);
  const workers = Array.from({ length: PARALLEL }, (_, w) => {
    const indices = MUTATIONS.map((_, i) => i).filter((i) => i % PARALLEL === w);
    return new Promise((resolve, reject) => {
      const worker = new Worker(fileURLToPath(import.meta.url), { workerData: { pristine, tmp, indices }, argv: [REPO] });
      worker.on('message', ({ i, r }) => (results[i] = r));
      worker.on('error', reject);
      worker.on('exit', resolve);
    });
  });
  return Promise.all(workers).then(() => results);
}

async function main() {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'craft-mutate-'));
  let failed = 0;
  try {
    const pristine = path.join(tmp, 'pristine');
    copyTree(REPO, pristine);
    const base = await runCheck(pristine);
    if (base.code !== 0) {
      console.log(`not ok - the unmutated copy passes the check\n${failures(base.out).join('\n')}`);
      return 1;
    }
    console.log('ok - the unmutated copy passes the check');
    const results = await spread(pristine, tmp);
    for (const [i, r] of results.entries()) {
      const res = r ?? { name: MUTATIONS[i][0], ok: false, why: 'never ran' };
      console.log(`${res.ok ? 'ok' : 'not ok'} - mutation caught: ${res.name}`);
      console.log(`    ${res.why.replace(/\n/g, '\n    ')}`);
      if (!res.ok) failed++;
    }
    console.log(`\n${MUTATIONS.length - failed} of ${MUTATIONS.length} mutations caught`);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  return failed ? 1 : 0;
}

if (isMainThread) process.exitCode = await main();
else await work(workerData);
