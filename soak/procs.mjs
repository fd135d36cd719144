// The processes of the soak: service replicas, HAProxy in front of them, and the
// stack's PostgreSQL and Redis (driven through scripts/stack.sh). Every process
// started here writes a pid file under VAR_DIR/run so that soak/run.sh can stop
// it even when this driver dies.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const env = process.env;
export const varDir = env.VAR_DIR;
const runDir = path.join(varDir, 'run');
const logDir = path.join(varDir, 'log');
const buildDir = path.resolve(env.CRAFT_REPO, env.BUILD_DIR ?? 'build');
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** GET url, resolving to the status (0 when there is no answer). */
export async function probe(url, timeoutMs = 1000) {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    await res.arrayBuffer();
    return res.status;
  } catch {
    return 0;
  }
}

async function waitStatus(url, want, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const s = await probe(url);
    if (want(s)) return s;
    if (Date.now() > deadline) throw new Error(`${url}: still ${s} after ${timeoutMs} ms`);
    await sleep(100);
  }
}

/** /proc figures of a process: resident set in kB and open file descriptors. */
export function footprint(pid) {
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const rss = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
    const links = fs.readdirSync(`/proc/${pid}/fd`).map((fd) => {
      try { return fs.readlinkSync(`/proc/${pid}/fd/${fd}`); } catch { return ''; }
    });
    const sockets = links.filter((l) => l.startsWith('socket:')).length;
    return { rss, fds: links.length, sockets };
  } catch {
    return null;
  }
}

/** One replica of a service (or HAProxy): started, signalled and restarted by the driver. */
export class Proc {
  constructor(name, argv, extraEnv, healthUrl) {
    Object.assign(this, { name, argv, extraEnv, healthUrl, expectedExit: true, crashes: [] });
    this.pidFile = path.join(runDir, `soak-${name}.pid`);
    this.log = path.join(logDir, `${name}.log`);
  }

  static service(svc, name, port, extraEnv = {}) {
    const bin = path.join(buildDir, 'services', svc, `craft-${svc}`);
    return new Proc(name, [bin], { PORT: String(port), ...extraEnv }, `http://127.0.0.1:${port}/`);
  }

  async start() {
    fs.mkdirSync(runDir, { recursive: true });
    fs.mkdirSync(logDir, { recursive: true });
    const out = fs.openSync(this.log, 'a');
    this.child = spawn(this.argv[0], this.argv.slice(1), {
      cwd: env.CRAFT_REPO, env: { ...env, ...this.extraEnv }, stdio: ['ignore', out, out], detached: true,
    });
    fs.closeSync(out);
    fs.writeFileSync(this.pidFile, `${this.child.pid}\n`);
    this.expectedExit = false;
    this.exited = new Promise((resolve) => this.child.on('exit', (code, signal) => {
      if (!this.expectedExit) this.crashes.push({ at: Date.now(), code, signal });
      resolve({ code, signal });
    }));
    if (this.healthUrl) await waitStatus(this.healthUrl, (s) => s === 200, 30_000);
    this.startedAt = Date.now();
  }

  get pid() { return this.child?.pid; }

  /** Sends `signal` and waits for the exit; SIGKILL after `timeoutMs`. */
  async stop(signal = 'SIGTERM', timeoutMs = 15_000) {
    if (!this.child || this.child.exitCode !== null || this.child.signalCode !== null) return null;
    this.expectedExit = true;
    this.child.kill(signal);
    const timer = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
    const res = await this.exited;
    clearTimeout(timer);
    fs.rmSync(this.pidFile, { force: true });
    return res;
  }

  signal(sig) { this.child.kill(sig); }
}

/** HAProxy in front of the replicas: round robin, health checks, retries, its own errors with Retry-After. */
export function haproxy(ports, backends) {
  const errors = (code) => `  http-error status ${code} content-type application/json `
    + `string '{"error":"No replica available","status_code":${code}}' hdr Retry-After 1`;
  const section = (name, port, servers, check) => [
    `frontend ${name}`,
    `  bind 127.0.0.1:${port}`,
    '  option forwardfor',
    `  default_backend ${name}_replicas`,
    `backend ${name}_replicas`,
    '  balance roundrobin',
    `  option httpchk GET ${check}`,
    '  http-check expect status 200',
    '  default-server inter 300ms fastinter 200ms downinter 300ms fall 2 rise 1',
    ...servers.map((s) => `  server ${s.name} 127.0.0.1:${s.port} check`),
  ];
  const cfg = [
    'global',
    '  maxconn 4096',
    `  pidfile ${path.join(runDir, 'haproxy.pid')}`,
    'defaults',
    '  mode http',
    '  timeout connect 1s',
    '  timeout client 30s',
    '  timeout server 10s',
    '  timeout http-keep-alive 5s',
    '  option http-keep-alive',
    '  retries 3',
    '  option redispatch 1',
    '  retry-on conn-failure empty-response response-timeout',
    errors(502), errors(503), errors(504),
    // The checks ask what needs no backend: the frontend's /health, the
    // others' home page (product serves reads from its cache while PostgreSQL
    // is down, so its /health, 503 then, would take it out for nothing).
    ...section('shop', ports.shop, backends.frontend, '/health'),
    ...section('auth', ports.auth, backends.auth, '/'),
    ...section('product', ports.product, backends.product, '/'),
    '',
  ].join('\n');
  const file = path.join(varDir, 'haproxy.cfg');
  fs.writeFileSync(file, cfg);
  const check = spawnSync('haproxy', ['-c', '-q', '-f', file], { encoding: 'utf8' });
  if (check.status !== 0) throw new Error(`haproxy.cfg is invalid:\n${check.stdout}${check.stderr}`);
  return new Proc('haproxy', ['haproxy', '-db', '-f', file], {}, null);
}

/** scripts/stack.sh COMMAND, without blocking the load; rejects on failure. */
export function stack(cmd) {
  return new Promise((resolve, reject) => {
    const child = spawn(env.CRAFT_STACK, [cmd], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => { out += d; });
    child.stderr.on('data', (d) => { out += d; });
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`stack.sh ${cmd}: ${out}`))));
  });
}

/** The pid of the stack's Redis or PostgreSQL postmaster. */
export function stackPid(which) {
  const file = which === 'redis' ? path.join(runDir, 'redis.pid') : path.join(varDir, 'pg', 'data', 'postmaster.pid');
  try {
    return Number(fs.readFileSync(file, 'utf8').split('\n')[0]);
  } catch {
    return 0;
  }
}

/** Runs SQL with psql on the soak's database; resolves to the rows as arrays of text. */
export function sql(text) {
  const res = spawnSync('psql', ['-X', '-q', '-A', '-t', '-F', '\t', '-v', 'ON_ERROR_STOP=1', '-d', env.DATABASE_URL, '-c', text], {
    encoding: 'utf8', timeout: 60_000, maxBuffer: 64 * 1024 * 1024,
  });
  if (res.status !== 0) throw new Error(`sql failed: ${text}\n${res.stderr}`);
  return res.stdout.split('\n').filter((l) => l.length > 0).map((l) => l.split('\t'));
}

/** Lines of a log that report a sanitizer finding. */
export function sanitizerReports(file) {
  try {
    return fs.readFileSync(file, 'utf8').split('\n')
      .filter((l) => /ERROR: (Address|Leak|Thread)Sanitizer|runtime error:|SUMMARY: UndefinedBehaviorSanitizer/.test(l));
  } catch {
    return [];
  }
}
