// check.mjs - offline checks of the deployment files (run by scripts/deploy-check.sh).
//
//   node tests/deploy/check.mjs [REPO]      (or runChecks(repo, log) from mutate.mjs)
//
// Kubernetes (k8s.mjs): each overlay of deploy/k8s rendered by `kubectl kustomize`
// and checked object by object and as a whole. Containers: the Dockerfile's
// targets and build context, docker-compose.yml's wiring (targets, health checks
// against the route tables, variables against what the programs read, pinned
// images, hosts and ports between services), the collector's configuration.
// What the services serve and read comes from their C sources (sources.mjs), so
// a probe path no route serves or a misspelt variable fails here. `docker-compose
// config` validates the compose schema itself. Exit 0 when every check passed.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { begin, check, ctx, parseAll, programOf, read, routeFor, SERVICES } from './common.mjs';
import { k8sChecks } from './k8s.mjs';
import { valueProblem } from './sources.mjs';
import { collectorOtlpPorts, collectorProblems, IMAGE_VARIABLES, imageProblems, parseImage, serverPort } from './rules.mjs';
import YAML from 'yaml';

// ---------------------------------------------------------------- Dockerfile

// Instructions of a Dockerfile: continuation lines joined, comments dropped.
function dockerInstructions(text) {
  const out = [];
  let cur = '';
  for (const raw of text.split('\n')) {
    if (/^\s*#/.test(raw) && !cur) continue;
    if (/^\s*#/.test(raw)) continue;
    const line = raw.replace(/\s+$/, '');
    if (line.endsWith('\\')) {
      cur += line.slice(0, -1) + ' ';
      continue;
    }
    cur += line;
    if (cur.trim()) {
      const m = cur.trim().match(/^(\S+)\s*(.*)$/s);
      out.push({ op: m[1].toUpperCase(), args: m[2].trim() });
    }
    cur = '';
  }
  return out;
}

function dockerStages(text) {
  const stages = [];
  for (const ins of dockerInstructions(text)) {
    if (ins.op === 'FROM') {
      const m = ins.args.match(/^(?:--\S+\s+)*(\S+)(?:\s+AS\s+(\S+))?/i);
      stages.push({ from: m[1], name: m[2], ins: [] });
    } else if (stages.length) {
      stages.at(-1).ins.push(ins);
    }
  }
  return stages;
}

// The effective instructions of a stage: its base stages' first.
function stageChain(stages, stage) {
  const base = stages.find((s) => s.name === stage.from);
  return base ? [...stageChain(stages, base), ...stage.ins] : stage.ins;
}

// .dockerignore as Docker applies it: the last matching pattern wins, and a
// pattern that matches a parent folder matches everything under it.
function dockerignore(text) {
  const rules = text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => {
      const neg = l.startsWith('!');
      const pat = path.posix.normalize((neg ? l.slice(1) : l).replace(/^\/+/, '')).replace(/\/+$/, '');
      let re = '';
      for (let i = 0; i < pat.length; i++) {
        const ch = pat[i];
        if (ch === '*' && pat[i + 1] === '*') {
          re += pat[i + 2] === '/' ? '(?:.*/)?' : '.*';
          i += pat[i + 2] === '/' ? 2 : 1;
        } else if (ch === '*') re += '[^/]*';
        else if (ch === '?') re += '[^/]';
        else re += ch.replace(/[.+^${}()|[\]\\]/g, '\\$&');
      }
      return { neg, re: new RegExp(`^${re}$`) };
    });
  return (rel) => {
    const parts = rel.split('/');
    let excluded = false;
    for (const r of rules) {
      for (let i = 1; i <= parts.length; i++) {
        if (r.re.test(parts.slice(0, i).join('/'))) {
          excluded = !r.neg;
          break;
        }
      }
    }
    return excluded;
  };
}

function filesUnder(rel) {
  const abs = path.join(ctx.repo, rel);
  if (!fs.statSync(abs).isDirectory()) return [rel];
  return fs.readdirSync(abs).flatMap((f) => filesUnder(path.posix.join(rel, f)));
}

const execForm = (s) => {
  try {
    const v = JSON.parse(s);
    return Array.isArray(v) && v.length > 0 && v.every((x) => typeof x === 'string');
  } catch {
    return false;
  }
};

async function dockerChecks() {
  const text = read('Dockerfile');
  const stages = dockerStages(text);
  const ignored = dockerignore(read('.dockerignore'));

  await check('Dockerfile: COPY sources exist and are in the build context', () => {
    const problems = [];
    for (const s of stages) {
      for (const ins of s.ins.filter((i) => i.op === 'COPY' || i.op === 'ADD')) {
        if (/--from=/.test(ins.args)) continue;
        const words = ins.args.split(/\s+/).filter((w) => !w.startsWith('--'));
        for (const src of words.slice(0, -1)) {
          const rel = src.replace(/^\.\//, '').replace(/\/+$/, '') || '.';
          if (!fs.existsSync(path.join(ctx.repo, rel))) {
            problems.push(`${s.name}: ${src} does not exist`);
            continue;
          }
          const kept = filesUnder(rel).filter((f) => !ignored(f));
          if (kept.length === 0) problems.push(`${s.name}: ${src} is excluded by .dockerignore`);
        }
      }
    }
    return problems;
  });

  await check('.dockerignore keeps out build folders, state, dependencies, .git and secrets', () => {
    const mustOut = ['build/x', 'build-deploy/x', 'var/dev/log', '.git/HEAD', 'tests/node_modules/x/index.js',
      'tests/browser/artifacts/a.png', 'bench/results/r.txt', '.env', 'deploy/k8s/overlays/production/keys/private.pem',
      'services/frontend/node_modules/x.js'];
    const mustIn = ['CMakeLists.txt', 'lib/craft/log.c', 'services/frontend/static/css/app.css',
      'services/frontend/templates/home.html', 'tools/craft-healthcheck.c', 'db/migrations/001_schema.sql'];
    return [
      ...mustOut.filter((f) => !ignored(f)).map((f) => `${f} would be sent to the builder`),
      ...mustIn.filter((f) => ignored(f)).map((f) => `${f} would be left out`),
    ];
  });

  await check('Dockerfile: runtime stages run as a fixed non-root user with exec-form commands', () => {
    const problems = [];
    const builder = stages[0];
    for (const s of stages.filter((x) => x !== builder && x.name !== 'build')) {
      const chain = stageChain(stages, s);
      const user = chain.filter((i) => i.op === 'USER').at(-1)?.args;
      if (!user || !/^[1-9]\d*(:\d+)?$/.test(user)) problems.push(`${s.name}: USER ${user} is not a fixed non-root UID`);
      for (const i of chain.filter((x) => ['ENTRYPOINT', 'CMD'].includes(x.op))) {
        if (!execForm(i.args)) problems.push(`${s.name}: ${i.op} is not in exec form`);
      }
      if (!chain.some((i) => i.op === 'STOPSIGNAL' && i.args === 'SIGTERM')) problems.push(`${s.name}: no STOPSIGNAL SIGTERM`);
      if (s.from !== 'runtime' && s.name !== 'runtime') problems.push(`${s.name}: not based on the runtime stage`);
    }
    return problems;
  });

  await check('Dockerfile: one target per service (port, health check, entrypoint) and a migrate target', () => {
    const problems = [];
    for (const [name, port] of Object.entries(SERVICES)) {
      const s = stages.find((x) => x.name === name);
      if (!s) {
        problems.push(`no target ${name}`);
        continue;
      }
      const chain = stageChain(stages, s);
      const env = chain.filter((i) => i.op === 'ENV').map((i) => i.args).join(' ');
      if (!new RegExp(`\\bPORT=${port}\\b`).test(env)) problems.push(`${name}: ENV PORT is not ${port}`);
      if (!s.ins.some((i) => i.op === 'EXPOSE' && i.args === String(port))) problems.push(`${name}: EXPOSE is not ${port}`);
      const hc = s.ins.find((i) => i.op === 'HEALTHCHECK');
      const hcCmd = hc?.args.match(/\bCMD\s+(\[.*\])\s*$/)?.[1];
      if (!hcCmd || !execForm(hcCmd) || !JSON.parse(hcCmd)[0].endsWith('craft-healthcheck')) problems.push(`${name}: no exec-form craft-healthcheck HEALTHCHECK`);
      const ep = s.ins.find((i) => i.op === 'ENTRYPOINT');
      if (!ep || !execForm(ep.args) || JSON.parse(ep.args)[0] !== `/usr/local/bin/craft-${name}`) problems.push(`${name}: ENTRYPOINT is not craft-${name}`);
    }
    const mig = stages.find((x) => x.name === 'migrate');
    if (!mig?.ins.some((i) => i.op === 'ENTRYPOINT' && i.args.includes('craft-migrate'))) problems.push('no migrate target running craft-migrate');
    const fe = stages.find((x) => x.name === 'frontend');
    const feEnv = (fe?.ins ?? []).filter((i) => i.op === 'ENV').map((i) => i.args).join(' ');
    for (const v of ['STATIC_DIR', 'TEMPLATE_DIR']) if (!feEnv.includes(`${v}=`)) problems.push(`frontend: no ${v}`);
    return problems;
  });

  await check('Dockerfile: the build stage compiles with Release and no tests; the images are FROM scratch', () => {
    const problems = [];
    const build = stages.find((x) => x.name === 'build');
    const runs = (s) => (s?.ins ?? []).filter((i) => i.op === 'RUN').map((i) => i.args).join(' ');
    if (!/-DCMAKE_BUILD_TYPE=Release/.test(runs(build)) || !/-DCRAFT_TESTS=OFF/.test(runs(build))) {
      problems.push('build: cmake is not run with -DCMAKE_BUILD_TYPE=Release -DCRAFT_TESTS=OFF');
    }
    const rt = stages.find((x) => x.name === 'runtime');
    if (rt?.from !== 'scratch') problems.push(`runtime is FROM ${rt?.from}, not scratch`);
    if (runs(rt)) problems.push('runtime runs commands (a scratch image has no shell)');
    // Each image's files: the root filesystem scripts/image-rootfs.sh lays out for it.
    for (const name of [...Object.keys(SERVICES), 'migrate']) {
      const s = stages.find((x) => x.name === name);
      if (!s) continue;
      if (runs(s)) problems.push(`${name} runs commands (a scratch image has no shell)`);
      if (!/image-rootfs\.sh\s/.test(runs(build)) || !new RegExp(`\\b${name}\\b`).test(runs(build))) {
        problems.push(`build does not lay out /rootfs/${name} with image-rootfs.sh`);
      }
      if (!s.ins.some((i) => i.op === 'COPY' && new RegExp(`--from=build\\s+/rootfs/${name}/\\s+/$`).test(i.args))) {
        problems.push(`${name} does not copy /rootfs/${name}/ from the build stage`);
      }
    }
    return problems;
  });
}

// ---------------------------------------------------------------- docker-compose.yml

function composeEnv(svc) {
  const env = svc.environment ?? {};
  if (Array.isArray(env)) return Object.fromEntries(env.map((e) => e.split(/=(.*)/s).slice(0, 2)));
  return Object.fromEntries(Object.entries(env).map(([k, v]) => [k, v === null ? '' : String(v)]));
}

// ${VAR:-default} as compose fills it in without a .env file.
const defaults = (v) => v.replace(/\$\{[A-Z_]+:?-([^}]*)\}/g, '$1');

async function composeChecks() {
  const compose = parseAll(read('docker-compose.yml'), '1.2')[0];
  const services = compose.services ?? {};
  const stages = new Set(dockerStages(read('Dockerfile')).map((s) => s.name));

  await check('compose: the stack has the four services, PostgreSQL, Redis, migrate, collector and Jaeger', () => {
    const want = [...Object.keys(SERVICES), 'postgres', 'redis', 'migrate', 'otel-collector', 'jaeger'];
    return want.filter((s) => !services[s]).map((s) => `no service ${s}`);
  });

  await check('compose: built services use existing Dockerfile targets and are never pulled', () =>
    Object.entries(services)
      .filter(([, s]) => s.build)
      .filter(([, s]) => !stages.has(s.build.target) || (s.build.context ?? '.') !== '.' || s.pull_policy !== 'build')
      .map(([n, s]) => `${n}: target ${s.build.target}, context ${s.build.context}, pull_policy ${s.pull_policy} (must be build)`),
  );

  await check('compose: dependencies wait for health or completion, and can', () => {
    const problems = [];
    for (const [name, s] of Object.entries(services)) {
      const deps = s.depends_on ?? {};
      if (Array.isArray(deps)) {
        if (deps.length) problems.push(`${name}: depends_on without conditions`);
        continue;
      }
      for (const [dep, d] of Object.entries(deps)) {
        if (!services[dep]) problems.push(`${name}: depends on unknown ${dep}`);
        const hasHealth = services[dep]?.healthcheck || services[dep]?.build;
        if (d.condition === 'service_healthy' && !hasHealth) problems.push(`${name}: waits for ${dep}'s health, which has no healthcheck`);
      }
    }
    for (const name of ['auth', 'product', 'recommendation']) {
      if (services[name]?.depends_on?.migrate?.condition !== 'service_completed_successfully') problems.push(`${name} does not wait for migrate`);
    }
    if (services.migrate?.depends_on?.postgres?.condition !== 'service_healthy') problems.push('migrate does not wait for a healthy postgres');
    return problems;
  });

  await check('compose: services listen on their ports, are probed on /health, and publish only the shop and Jaeger', () => {
    const problems = [];
    for (const [name, port] of Object.entries(SERVICES)) {
      const s = services[name];
      if (!s) continue;
      if (composeEnv(s).PORT !== String(port)) problems.push(`${name}: PORT is not ${port}`);
      const test = s.healthcheck?.test ?? [];
      if (!test.join(' ').includes('craft-healthcheck')) problems.push(`${name}: no craft-healthcheck`);
    }
    for (const [name, s] of Object.entries(services)) {
      for (const p of s.ports ?? []) {
        const target = String(p).split(':').at(-1);
        const ok = (name === 'frontend' && target === '3000') || (name === 'jaeger' && target === '16686');
        if (!ok) problems.push(`${name} publishes ${p}`);
      }
    }
    return problems;
  });

  // What each service sees without a .env file, and the ports its server listens on.
  const env = Object.fromEntries(Object.keys(services).map((n) => [n, Object.fromEntries(Object.entries(composeEnv(services[n])).map(([k, v]) => [k, defaults(v)]))]));
  const collector = YAML.parse(read('deploy/otel-collector.yaml'));
  const listens = (name) => {
    const s = services[name];
    const img = parseImage(s?.image ?? '').name;
    const cmd = [s?.command ?? []].flat().map((w) => defaults(String(w)));
    if (s?.build) return env[name]?.PORT ? [Number(env[name].PORT)] : [];
    if (img === 'postgres' || img === 'redis') return [serverPort(img, cmd, env[name] ?? {})];
    if (/opentelemetry-collector/.test(img)) return Object.values(collectorOtlpPorts(collector));
    if (img === 'jaegertracing/all-in-one') return [4317, 4318, 16686];
    return [];
  };
  // The program a compose service runs: its build target (a service or tool of
  // this repository), else the third-party image's known variables.
  const readsOf = (s) => {
    const prog = s.build ? programOf(s.build.target) : null;
    if (prog) return { who: `craft-${s.build.target}`, vars: prog.vars };
    const img = parseImage(s.image ?? '').name;
    return IMAGE_VARIABLES[img] ? { who: img, vars: new Set(IMAGE_VARIABLES[img]) } : null;
  };

  await check('compose: every variable given to a service is one its program reads', () => {
    const problems = [];
    for (const [name, s] of Object.entries(services)) {
      const r = readsOf(s);
      if (!r) {
        problems.push(`${name}: no list of the variables ${s.image ?? s.build?.target} reads (tests/deploy/rules.mjs)`);
        continue;
      }
      for (const k of Object.keys(composeEnv(s))) if (!r.vars.has(k)) problems.push(`${name}: ${k} is not a variable ${r.who} reads`);
    }
    return problems;
  });

  await check('compose: every value fits the type and bounds its program declares (config.h)', () => {
    const problems = [];
    for (const [name, s] of Object.entries(services)) {
      const prog = s.build ? programOf(s.build.target) : null;
      for (const [k, v] of Object.entries(env[name] ?? {})) {
        const p = prog && valueProblem(k, v, prog.specs[k]);
        if (p) problems.push(`${name}: ${p}`);
      }
    }
    return problems;
  });

  await check('compose: clients reach PostgreSQL and Redis on the host and port they listen on', () => {
    const problems = [];
    for (const [name, s] of Object.entries(services)) {
      const r = readsOf(s);
      if (!s.build || !r) continue;
      for (const [hostKey, portKey, dflt] of [['POSTGRES_HOST', 'POSTGRES_PORT', 5432], ['REDIS_HOST', 'REDIS_PORT', 6379]]) {
        if (!r.vars.has(hostKey) || (hostKey === 'POSTGRES_HOST' && env[name].DATABASE_URL)) continue;
        const host = env[name][hostKey];
        if (!host || !services[host]) {
          problems.push(`${name}: ${hostKey}=${host ?? '(unset: localhost)'} is no service of the stack`);
          continue;
        }
        const port = Number(env[name][portKey] ?? dflt);
        const ports = listens(host);
        if (!ports.includes(port)) problems.push(`${name}: ${portKey}=${port}, but ${host} listens on ${ports.join(', ')}`);
      }
    }
    return problems;
  });

  await check('compose: images are pinned to one release (no floating tag), PostgreSQL 15+ and Redis 7+', () =>
    Object.entries(services)
      .filter(([, s]) => !s.build)
      .flatMap(([name, s]) => imageProblems(s.image ?? '').map((p) => `${name}: ${p}`)),
  );

  await check('compose and Dockerfile: health-check paths are routes the services serve', () => {
    const problems = [];
    const probePath = (words) => {
      const i = words.findIndex((w) => String(w).endsWith('craft-healthcheck'));
      return i < 0 ? undefined : (words[i + 1] ?? '/health');
    };
    for (const [name, s] of Object.entries(services)) {
      if (!ctx.sources.services[s.build?.target]) continue;
      const p = probePath([s.healthcheck?.test ?? []].flat());
      if (p !== undefined && !routeFor(s.build.target, p)) problems.push(`compose ${name}: health check GET ${p} is served by no route of ${s.build.target}`);
    }
    for (const st of dockerStages(read('Dockerfile')).filter((x) => ctx.sources.services[x.name])) {
      for (const hc of st.ins.filter((i) => i.op === 'HEALTHCHECK')) {
        const cmd = hc.args.match(/\bCMD\s+(\[.*\])\s*$/)?.[1];
        const p = cmd && execForm(cmd) ? probePath(JSON.parse(cmd)) : undefined;
        if (p !== undefined && !routeFor(st.name, p)) problems.push(`Dockerfile ${st.name}: HEALTHCHECK GET ${p} is served by no route of ${st.name}`);
      }
    }
    return problems;
  });

  await check('compose: URLs between services, JWT settings and shared secrets agree', () => {
    const problems = [];
    for (const [name, e] of Object.entries(env)) {
      for (const [key, value] of Object.entries(e)) {
        if (!/^https?:\/\//.test(value)) continue;
        const u = new URL(value);
        const target = services[u.hostname];
        if (!target) {
          problems.push(`${name} ${key}=${value}: no service ${u.hostname}`);
          continue;
        }
        const port = Number(u.port || 80);
        const ports = listens(u.hostname);
        if (!ports.includes(port)) problems.push(`${name} ${key}=${value}: ${u.hostname} listens on ${ports.join(', ')}`);
      }
    }
    for (const name of ['product', 'frontend']) {
      if (env[name]?.JWT_ISSUER !== env.auth?.BASE_URL) problems.push(`${name}: JWT_ISSUER is not auth's BASE_URL`);
      if (env[name]?.JWT_AUDIENCE !== env.auth?.JWT_AUDIENCE) problems.push(`${name}: JWT_AUDIENCE differs from auth's`);
    }
    if (env.frontend?.INTERNAL_API_KEY !== env.auth?.INTERNAL_API_KEY) problems.push('frontend and auth have different INTERNAL_API_KEYs');
    for (const name of ['auth', 'product', 'recommendation', 'migrate']) {
      for (const key of ['POSTGRES_USER', 'POSTGRES_PASSWORD', 'POSTGRES_DB']) {
        if (env[name]?.[key] !== env.postgres?.[key]) problems.push(`${name}: ${key} differs from postgres'`);
      }
    }
    for (const name of Object.keys(SERVICES)) {
      if (env[name]?.DEPLOYMENT_ENVIRONMENT !== 'development') problems.push(`${name}: DEPLOYMENT_ENVIRONMENT is not development (auth would need keys and real secrets)`);
    }
    const keys = (services.auth?.volumes ?? []).some((v) => String(v).split(':')[1] === path.posix.dirname('/var/lib/craftista/keys/private.pem'));
    if (!keys) problems.push('auth has no volume for its generated keys');
    return problems;
  });

  await check('compose: the collector gets deploy/otel-collector.yaml', () => {
    const vols = (services['otel-collector']?.volumes ?? []).map(String);
    return vols.some((v) => v.startsWith('./deploy/otel-collector.yaml:')) ? [] : ['not mounted'];
  });

  await check('collector: deploy/otel-collector.yaml names known components and pipelines use defined ones', () =>
    collectorProblems(collector),
  );
}

// ---------------------------------------------------------------- main

// Every check on the repository at `repo`; report lines go to `log`.
export async function runChecks(repo, log = console.log) {
  begin(repo, log);
  await check('sources: every service has a route table and reads PORT (tests/deploy/sources.mjs understood the C)', () => {
    const problems = [];
    for (const name of Object.keys(SERVICES)) {
      const s = ctx.sources.services[name];
      if (!s?.routes.some((r) => r.pattern === '/health')) problems.push(`${name}: no route table with /health found`);
      if (!s?.vars.has('PORT')) problems.push(`${name}: PORT is not among the variables found`);
    }
    if (!ctx.sources.tools.migrate?.vars.has('POSTGRES_HOST')) problems.push('craft-migrate: POSTGRES_HOST is not among the variables found');
    return problems;
  });
  await k8sChecks();
  await dockerChecks();
  await composeChecks();
  log(`\n${ctx.results.passed} passed, ${ctx.results.failed} failed`);
  return { ...ctx.results };
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const r = await runChecks(process.argv[2] || path.join(path.dirname(fileURLToPath(import.meta.url)), '../..'));
  process.exitCode = r.failed ? 1 : 0;
}
