// The soak's driver (started by soak/run.sh once PostgreSQL and Redis run and the
// migrations are applied): starts the replicas and HAProxy, registers the users,
// runs the load for SOAK_SECONDS while faults happen on a schedule, stops the load,
// audits, writes the report and exits 0 only when the audit passes.
import os from 'node:os';
import { Proc, haproxy, stack, stackPid, sql, footprint, sanitizerReports, sleep, probe } from './procs.mjs';
import { Load } from './load.mjs';
import { staleReads, lostVotes, errorsByWindow, perSecond, perKind, growth } from './audit.mjs';
import { writeReport } from './report.mjs';

const env = process.env;
const SECONDS = Number(env.SOAK_SECONDS ?? 300);
const WORKERS = Number(env.SOAK_WORKERS ?? 24);
const USERS = 48;
const WARMUP_MS = SECONDS >= 120 ? 15_000 : 6000;
const QUIET_MS = 1500;
const SANITIZE = env.CMAKE_BUILD_TYPE === 'Sanitize';
const GRACE_MS = 5000; // an error this long after a fault healed still belongs to it
const say = (msg) => console.error(`soak: ${msg}`);

const port = (name) => Number(env[name]);
const lb = {
  shop: `http://127.0.0.1:${port('SOAK_LB_SHOP_PORT')}`,
  auth: `http://127.0.0.1:${port('SOAK_LB_AUTH_PORT')}`,
  product: `http://127.0.0.1:${port('SOAK_LB_PRODUCT_PORT')}`,
};
const recommendationUrl = `http://127.0.0.1:${port('RECOMMENDATION_PORT')}`;

function replicas() {
  const common = { BASE_URL: lb.auth, JWT_ISSUER: lb.auth, AUTH_SERVICE_URL: lb.auth };
  const auth = [
    Proc.service('auth', 'auth-a', port('AUTH_PORT'), common),
    Proc.service('auth', 'auth-b', port('SOAK_AUTH_B_PORT'), common),
  ];
  const product = [
    Proc.service('product', 'product-a', port('PRODUCT_PORT'), common),
    Proc.service('product', 'product-b', port('SOAK_PRODUCT_B_PORT'), common),
  ];
  const recommendation = Proc.service('recommendation', 'recommendation', port('RECOMMENDATION_PORT'), common);
  const shopEnv = {
    ...common, PRODUCTS_API_BASE_URI: lb.product, VOTING_BASE_URI: lb.product,
    RECOMMENDATION_BASE_URI: recommendationUrl, TRUSTED_PROXIES: '127.0.0.1/32',
  };
  const frontend = [
    Proc.service('frontend', 'frontend-a', port('FRONTEND_PORT'), shopEnv),
    Proc.service('frontend', 'frontend-b', port('SOAK_FRONTEND_B_PORT'), shopEnv),
  ];
  const lbProc = haproxy(
    { shop: port('SOAK_LB_SHOP_PORT'), auth: port('SOAK_LB_AUTH_PORT'), product: port('SOAK_LB_PRODUCT_PORT') },
    {
      frontend: frontend.map((p, i) => ({ name: `f${i}`, port: p.extraEnv.PORT })),
      auth: auth.map((p, i) => ({ name: `a${i}`, port: p.extraEnv.PORT })),
      product: product.map((p, i) => ({ name: `p${i}`, port: p.extraEnv.PORT })),
    },
  );
  return { auth, product, recommendation, frontend, lb: lbProc };
}

/** The faults of one cycle; `n` alternates which replica is hit. */
function faultsOf(p, n) {
  const pick = (list) => list[n % list.length];
  return [
    { name: 'PostgreSQL stopped for 5 s', short: 'pg', run: async () => { await stack('pg-stop'); await sleep(5000); await stack('pg-start'); } },
    { name: 'Redis stopped for 3 s', short: 'redis', run: async () => { await stack('redis-stop'); await sleep(3000); await stack('redis-start'); } },
    {
      name: 'Redis frozen (SIGSTOP) for 3 s', short: 'freeze',
      run: async () => { const pid = stackPid('redis'); process.kill(pid, 'SIGSTOP'); await sleep(3000); process.kill(pid, 'SIGCONT'); },
    },
    { name: `${pick(p.auth).name} stopped (SIGTERM) for 2 s`, short: 'auth', proc: pick(p.auth), run: async (f) => { await f.proc.stop('SIGTERM'); await sleep(2000); await f.proc.start(); } },
    { name: `${pick(p.product).name} killed (SIGKILL), restarted`, short: 'kill', proc: pick(p.product), run: async (f) => { await f.proc.stop('SIGKILL'); await f.proc.start(); } },
    { name: `${pick(p.frontend).name} stopped (SIGTERM), restarted`, short: 'front', proc: pick(p.frontend), run: async (f) => { await f.proc.stop('SIGTERM'); await f.proc.start(); } },
    {
      name: 'recommendation frozen 4 s (past the frontend\'s timeout)', short: 'slow', proc: p.recommendation,
      run: async (f) => { f.proc.signal('SIGSTOP'); await sleep(4000); f.proc.signal('SIGCONT'); },
    },
  ];
}

/** The schedule: as many cycles of the seven faults as fit, evenly spaced after the warm-up. */
function schedule(p, t0) {
  const first = WARMUP_MS + 2000, last = SECONDS * 1000 - 8000;
  const perFault = 12_000;
  const cycles = Math.max(1, Math.floor((last - first) / (7 * perFault)));
  const list = [];
  for (let c = 0; c < cycles; c++) list.push(...faultsOf(p, c));
  const slot = (last - first) / list.length;
  list.forEach((f, i) => { f.at = t0 + first + i * slot; });
  return list;
}

async function register(users) {
  for (let i = 0; i < users.length; i += 8) {
    await Promise.all(users.slice(i, i + 8).map(async (u) => {
      const res = await fetch(`${lb.shop}/auth/register`, {
        method: 'POST', headers: { 'content-type': 'application/json', 'x-forwarded-for': u.address },
        body: JSON.stringify({ username: u.username, email: `${u.username}@example.com`, password: u.password }),
      });
      if (res.status !== 201) throw new Error(`register ${u.username}: ${res.status} ${await res.text()}`);
    }));
  }
}

function footprints(all) {
  return new Map(all.filter((p) => p.pid).map((p) => [p.name, footprint(p.pid)]));
}

async function audit(load, p, faults, t0, before, after) {
  const failures = [];
  const rows = sql('SELECT username, product_id FROM votes');
  const votes = lostVotes(load, rows);
  if (votes.lost.length || votes.phantom.length) failures.push(`${votes.lost.length} lost and ${votes.phantom.length} phantom votes`);
  const counts = sql('SELECT p.id, p.votes, (SELECT count(*) FROM votes v WHERE v.product_id = p.id) FROM products p ORDER BY p.id');
  const bad = counts.filter(([, c, r]) => c !== r).map(([id, c, r]) => `#${id}: ${c} vs ${r} rows`);
  if (bad.length) failures.push(`counters differ from rows (${bad.join(', ')})`);
  const served = await (await fetch(`${lb.shop}/api/products`)).json();
  const db = new Map(counts.map(([id, c]) => [Number(id), Number(c)]));
  const badServed = served.filter((s) => db.get(s.id) !== s.votes).map((s) => `#${s.id}: ${s.votes} vs ${db.get(s.id)}`);
  if (badServed.length) failures.push(`served counts differ from the database (${badServed.join(', ')})`);
  const stale = staleReads(load);
  if (stale.stale.length) failures.push(`${stale.stale.length} stale reads`);
  const errors = errorsByWindow(load.requests, faults, GRACE_MS);
  if (errors.outside.length) failures.push(`${errors.outside.length} errors outside fault windows`);
  if (errors.undocumented.length) failures.push(`${errors.undocumented.length} errors other than 503/429 with Retry-After`);
  const all = [...p.auth, ...p.product, p.recommendation, ...p.frontend, p.lb];
  const crashes = all.flatMap((x) => x.crashes.map((c) => `${x.name} (${c.signal ?? `exit ${c.code}`})`));
  if (crashes.length) failures.push(`crashed: ${crashes.join(', ')}`);
  const sanitizer = all.flatMap((x) => sanitizerReports(x.log));
  if (sanitizer.length) failures.push(`${sanitizer.length} sanitizer reports`);
  const grown = growth(before, after, { judgeRss: !SANITIZE });
  const tooMuch = grown.filter((g) => !g.ok).map((g) => g.name);
  if (tooMuch.length) failures.push(`RSS or fds grew 10 % or more: ${tooMuch.join(', ')}`);
  return {
    failures, votes, stale, errors, crashes, sanitizer, growth: grown,
    counters: { ok: bad.length === 0, bad, products: counts.length },
    served: { ok: badServed.length === 0, bad: badServed },
  };
}

async function main() {
  const p = replicas();
  const all = [p.lb, ...p.auth, ...p.product, p.recommendation, ...p.frontend];
  say('starting HAProxy, two auth, two product, one recommendation, two frontend replicas and HAProxy');
  for (const x of all) await x.start();
  for (const url of [lb.shop, lb.auth, lb.product]) {
    for (let i = 0; (await probe(`${url}/`)) !== 200; i++) {
      if (i > 100) throw new Error(`${url} does not answer through HAProxy`);
      await sleep(100);
    }
  }
  const users = Array.from({ length: USERS }, (_, i) => ({
    username: `soaker_${process.pid % 10000}_${i}`, password: 'folded-paper-soak', address: `198.18.${i >> 8}.${(i & 255) + 1}`,
  }));
  await register(users);
  const ids = (await (await fetch(`${lb.shop}/api/products`)).json()).map((x) => x.id);
  const writers = Math.max(1, Math.min(ids.length, Math.round(WORKERS / 3)));
  const load = new Load(lb.shop, users, ids, { writers, readers: Math.max(1, WORKERS - writers) });
  for (const u of users) await load.login(u);
  load.requests.length = 0;

  const t0 = Date.now();
  const started = new Date(t0).toISOString().replace(/\.\d+Z$/, 'Z');
  say(`load for ${SECONDS} s: ${writers} writers, ${WORKERS - writers} readers, one login loop, ${USERS} users`);
  const running = load.run();
  await sleep(WARMUP_MS);
  // Footprints are taken with the load held for a moment, at the end of the
  // warm-up and after the run, so that open connections compare like with like.
  await load.pause(QUIET_MS);
  const before = footprints(all);
  load.resume();
  const faults = schedule(p, t0);
  for (const f of faults) {
    await sleep(Math.max(0, f.at - Date.now()));
    say(`fault: ${f.name}`);
    f.start = Date.now();
    await f.run(f);
    f.end = Date.now();
  }
  await sleep(Math.max(0, t0 + SECONDS * 1000 - Date.now()));
  await load.stop();
  await running;
  await sleep(QUIET_MS); // also lets the last cache repairs land before the audit reads
  const after = footprints(all);
  const seconds = (Date.now() - t0) / 1000;
  const result = await audit(load, p, faults, t0, before, after);
  for (const x of all) {
    const res = await x.stop(x === p.lb ? 'SIGUSR1' : 'SIGTERM');
    if (res && x !== p.lb && (res.code !== 0 || res.signal)) result.failures.push(`${x.name} did not exit 0 on SIGTERM (${res.signal ?? res.code})`);
  }
  // LeakSanitizer reports at exit: read the logs again now that everything stopped.
  result.sanitizer = all.flatMap((x) => sanitizerReports(x.log).map((l) => `${x.name}: ${l.trim()}`));
  if (result.sanitizer.length && !result.failures.some((f) => f.includes('sanitizer'))) {
    result.failures.push(`${result.sanitizer.length} sanitizer reports`);
  }
  const report = writeReport(env.SOAK_OUT_DIR, {
    started, seconds: Math.round(seconds), users: USERS, workers: `${writers} writers, ${WORKERS - writers} readers, 1 login loop`,
    machine: `${os.cpus().length} cores`, build: SANITIZE ? 'ASan+UBSan' : 'release',
    passed: result.failures.length === 0, t0, graceMs: GRACE_MS, faults,
    series: perSecond(load.requests, t0), kinds: perKind(load.requests, seconds), ...result,
  });
  console.log(report);
  process.exitCode = result.failures.length === 0 ? 0 : 1;
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 2;
});
