// check.mjs - offline checks of the deployment files (run by scripts/deploy-check.sh).
//
//   node tests/deploy/check.mjs [REPO]
//
// Kubernetes (deploy/k8s): every document of every file that kustomization.yaml lists
// is validated by its kubernetes-models class, plus a strict pass that reports fields
// the schema does not know (a misspelt `readinesProbe` would otherwise pass); then the
// references between objects (selectors, ports, ConfigMap and Secret keys, images), the
// pod security settings and the probes. Containers: the Dockerfile's targets and
// build context, docker-compose.yml's wiring (targets, health checks, URLs between
// services, shared secrets). `docker-compose config` validates the compose schema
// itself; this file checks what a schema cannot. Exit 0 when every check passed.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import YAML from 'yaml';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const REPO = path.resolve(process.argv[2] || path.join(HERE, '../..'));
const K8S = path.join(REPO, 'deploy/k8s');
const SERVICES = { auth: 8082, product: 8000, recommendation: 8080, frontend: 3000 };

// ---------------------------------------------------------------- reporting

const results = { passed: 0, failed: 0 };

// check NAME FN: FN returns (or resolves to) a list of problems; none = passed.
async function check(name, fn) {
  let problems;
  try {
    problems = await fn();
  } catch (err) {
    problems = [`threw: ${err.stack || err}`];
  }
  if (problems.length === 0) {
    results.passed++;
    console.log(`ok - ${name}`);
    return;
  }
  results.failed++;
  console.log(`not ok - ${name}`);
  for (const p of problems) console.log(`    ${p}`);
}

// ---------------------------------------------------------------- files

function read(rel) {
  return fs.readFileSync(path.join(REPO, rel), 'utf8');
}

// YAML as its reader takes it: kubectl YAML 1.1 (0440 is octal), compose YAML 1.2
// with merge keys.
function parseAll(text, version = '1.1') {
  return YAML.parseAllDocuments(text, { version, merge: true })
    .map((d) => {
      if (d.errors.length) throw new Error(d.errors.map((e) => e.message).join('; '));
      return d.toJS({ maxAliasCount: 100 });
    })
    .filter((d) => d !== null && d !== undefined);
}

function kustomization() {
  return parseAll(read('deploy/k8s/kustomization.yaml'))[0];
}

// Every document of the files kustomization.yaml lists, with where it came from.
function manifests() {
  const out = [];
  for (const file of kustomization().resources ?? []) {
    parseAll(read(`deploy/k8s/${file}`)).forEach((doc, i) => out.push({ file, index: i, doc }));
  }
  return out;
}

const where = (m) => `${m.file}#${m.index} ${m.doc?.kind}/${m.doc?.metadata?.name}`;

// KEY=VALUE lines as kustomize's `envs` reads them.
function envFile(text) {
  const out = {};
  for (const line of text.split('\n')) {
    const t = line.trim();
    if (!t || t.startsWith('#')) continue;
    const eq = t.indexOf('=');
    if (eq > 0) out[t.slice(0, eq)] = t.slice(eq + 1);
  }
  return out;
}

// The Secrets that kustomization.yaml's secretGenerator makes, from the committed
// examples (secrets.env.example; placeholders for key files).
function generatedSecrets() {
  const out = [];
  for (const g of kustomization().secretGenerator ?? []) {
    const data = {};
    for (const env of g.envs ?? []) Object.assign(data, envFile(read(`deploy/k8s/${env}.example`)));
    for (const f of g.files ?? []) data[f.split('=')[0]] = 'placeholder';
    out.push({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: g.name, namespace: kustomization().namespace },
      type: 'Opaque',
      stringData: data,
    });
  }
  return out;
}

// ---------------------------------------------------------------- schema validation

const modelModules = new Map();

async function modelClass(apiVersion, kind) {
  const mod = apiVersion.includes('/') ? `kubernetes-models/${apiVersion}` : 'kubernetes-models/v1';
  if (!modelModules.has(mod)) {
    modelModules.set(mod, await import(mod).catch(() => null));
  }
  return modelModules.get(mod)?.[kind];
}

// A proxy that notes every property path the validator looks at.
function tracked(obj, at, seen) {
  if (obj === null || typeof obj !== 'object') return obj;
  return new Proxy(obj, {
    get(target, key) {
      if (typeof key !== 'string') return target[key];
      seen.add(`${at}/${key}`);
      return tracked(target[key], `${at}/${key}`, seen);
    },
  });
}

// Object keys the validator never looked at: fields the schema does not have.
function unseen(obj, at, seen, out) {
  if (obj === null || typeof obj !== 'object') return out;
  for (const key of Object.keys(obj)) {
    const p = `${at}/${key}`;
    if (!Array.isArray(obj) && !seen.has(p)) out.push(p);
    else unseen(obj[key], p, seen, out);
  }
  return out;
}

async function validateDoc(doc) {
  if (!doc || typeof doc.apiVersion !== 'string' || typeof doc.kind !== 'string') {
    return ['no apiVersion/kind'];
  }
  const Model = await modelClass(doc.apiVersion, doc.kind);
  if (!Model) return [`no kubernetes-models class for ${doc.apiVersion} ${doc.kind}`];
  const model = new Model(doc);
  const seen = new Set();
  try {
    model.validate.call(tracked(model, '', seen));
  } catch (err) {
    return [err.message];
  }
  return unseen(model, '', seen, []).map((p) => `unknown field ${p}`);
}

// ---------------------------------------------------------------- Kubernetes helpers

const WORKLOADS = new Set(['Deployment', 'StatefulSet', 'DaemonSet', 'Job']);

function podSpec(doc) {
  return WORKLOADS.has(doc.kind) ? doc.spec?.template?.spec : undefined;
}

function podLabels(doc) {
  return doc.spec?.template?.metadata?.labels ?? {};
}

const matches = (selector, labels) =>
  Object.entries(selector ?? {}).every(([k, v]) => labels[k] === v) && Object.keys(selector ?? {}).length > 0;

function containersOf(spec) {
  return [...(spec?.initContainers ?? []), ...(spec?.containers ?? [])];
}

function probesOf(c) {
  return ['startupProbe', 'readinessProbe', 'livenessProbe'].filter((p) => c[p]).map((p) => [p, c[p]]);
}

// ---------------------------------------------------------------- Kubernetes checks

async function k8sChecks() {
  const k = kustomization();

  await check('k8s: kustomization.yaml lists every manifest and only existing files', () => {
    const problems = [];
    const listed = new Set(k.resources ?? []);
    for (const f of listed) if (!fs.existsSync(path.join(K8S, f))) problems.push(`${f} is listed but missing`);
    for (const f of fs.readdirSync(K8S)) {
      if (/\.ya?ml$/.test(f) && f !== 'kustomization.yaml' && !listed.has(f)) {
        problems.push(`${f} is not listed in resources`);
      }
    }
    for (const g of k.secretGenerator ?? []) {
      for (const env of g.envs ?? []) {
        if (!fs.existsSync(path.join(K8S, `${env}.example`))) problems.push(`${env}.example is missing`);
      }
    }
    if (k.namespace !== 'craftista') problems.push(`namespace is ${k.namespace}, not craftista`);
    return problems;
  });

  const docs = manifests();
  for (const m of docs) {
    await check(`k8s schema: ${where(m)}`, () => validateDoc(m.doc));
  }
  for (const s of generatedSecrets()) {
    await check(`k8s schema: secretGenerator Secret/${s.metadata.name}`, () => validateDoc(s));
  }

  const all = docs.map((m) => m.doc);
  const workloads = docs.filter((m) => podSpec(m.doc));
  const configMaps = new Map(all.filter((d) => d.kind === 'ConfigMap').map((d) => [d.metadata.name, d]));
  const secrets = new Map(generatedSecrets().map((s) => [s.metadata.name, s.stringData]));

  await check('k8s: every object is in the craftista namespace (except the Namespace)', () =>
    docs
      .filter((m) => m.doc.kind !== 'Namespace' && m.doc.metadata?.namespace !== k.namespace)
      .map((m) => `${where(m)}: namespace ${m.doc.metadata?.namespace}`),
  );

  await check('k8s: workload selectors match their pod labels', () =>
    workloads
      .filter((m) => m.doc.kind !== 'Job' && !matches(m.doc.spec.selector?.matchLabels, podLabels(m.doc)))
      .map((m) => `${where(m)}: selector does not match the template's labels`),
  );

  await check('k8s: Services select a workload and target one of its ports', () => {
    const problems = [];
    for (const svc of all.filter((d) => d.kind === 'Service')) {
      const targets = workloads.filter((m) => matches(svc.spec.selector, podLabels(m.doc)));
      if (targets.length !== 1) {
        problems.push(`Service/${svc.metadata.name} selects ${targets.length} workloads`);
        continue;
      }
      const ports = containersOf(podSpec(targets[0].doc)).flatMap((c) => c.ports ?? []);
      for (const p of svc.spec.ports ?? []) {
        const t = p.targetPort ?? p.port;
        const ok = ports.some((cp) => cp.name === t || cp.containerPort === t);
        if (!ok) problems.push(`Service/${svc.metadata.name} port ${p.name}: no container port ${t}`);
      }
    }
    return problems;
  });

  await check('k8s: probes use declared container ports', () => {
    const problems = [];
    for (const m of workloads) {
      for (const c of containersOf(podSpec(m.doc))) {
        const names = new Set((c.ports ?? []).map((p) => p.name));
        const numbers = new Set((c.ports ?? []).map((p) => p.containerPort));
        for (const [kind, probe] of probesOf(c)) {
          const port = probe.httpGet?.port ?? probe.tcpSocket?.port;
          if (port === undefined) continue;
          if (!names.has(port) && !numbers.has(port)) problems.push(`${where(m)} ${c.name} ${kind}: port ${port}`);
        }
      }
    }
    return problems;
  });

  await check('k8s: ConfigMap and Secret references exist (names and keys)', () => {
    const problems = [];
    const mounts = (c, vol) => (c.volumeMounts ?? []).some((vm) => vm.name === vol.name);
    for (const m of workloads) {
      const spec = podSpec(m.doc);
      for (const c of containersOf(spec)) {
        for (const e of c.env ?? []) {
          const cm = e.valueFrom?.configMapKeyRef;
          const sk = e.valueFrom?.secretKeyRef;
          if (cm && !(cm.key in (configMaps.get(cm.name)?.data ?? {}))) {
            problems.push(`${where(m)} ${c.name} ${e.name}: ConfigMap ${cm.name} has no key ${cm.key}`);
          }
          if (sk && !(sk.key in (secrets.get(sk.name) ?? {}))) {
            problems.push(`${where(m)} ${c.name} ${e.name}: Secret ${sk.name} has no key ${sk.key}`);
          }
        }
        for (const ef of c.envFrom ?? []) {
          if (ef.configMapRef && !configMaps.has(ef.configMapRef.name)) problems.push(`${where(m)}: no ConfigMap ${ef.configMapRef.name}`);
          if (ef.secretRef && !secrets.has(ef.secretRef.name)) problems.push(`${where(m)}: no Secret ${ef.secretRef.name}`);
        }
        for (const vm of c.volumeMounts ?? []) {
          if (!(spec.volumes ?? []).some((v) => v.name === vm.name)) {
            const claim = (m.doc.spec.volumeClaimTemplates ?? []).some((t) => t.metadata.name === vm.name);
            if (!claim) problems.push(`${where(m)} ${c.name}: mount of unknown volume ${vm.name}`);
          }
        }
      }
      for (const v of spec.volumes ?? []) {
        if (v.configMap && !configMaps.has(v.configMap.name)) problems.push(`${where(m)}: no ConfigMap ${v.configMap.name}`);
        if (v.secret) {
          const keys = secrets.get(v.secret.secretName);
          if (!keys) problems.push(`${where(m)}: no Secret ${v.secret.secretName}`);
          for (const it of v.secret.items ?? []) {
            if (keys && !(it.key in keys)) problems.push(`${where(m)}: Secret ${v.secret.secretName} has no key ${it.key}`);
          }
        }
        if (!containersOf(spec).some((c) => mounts(c, v))) problems.push(`${where(m)}: volume ${v.name} is never mounted`);
      }
    }
    return problems;
  });

  await check('k8s: pods meet the restricted Pod Security Standard and set resources', () => {
    const problems = [];
    for (const m of workloads) {
      const spec = podSpec(m.doc);
      const psc = spec.securityContext ?? {};
      const bad = (what) => problems.push(`${where(m)}: ${what}`);
      if (spec.enableServiceLinks !== false) bad('enableServiceLinks is not false');
      if (spec.automountServiceAccountToken !== false) bad('automountServiceAccountToken is not false');
      if (psc.seccompProfile?.type !== 'RuntimeDefault') bad('no RuntimeDefault seccomp profile');
      if (spec.hostNetwork || spec.hostPID || spec.hostIPC) bad('uses a host namespace');
      for (const v of spec.volumes ?? []) if (v.hostPath) bad(`hostPath volume ${v.name}`);
      for (const c of containersOf(spec)) {
        const sc = c.securityContext ?? {};
        const who = (what) => bad(`${c.name}: ${what}`);
        if (sc.runAsNonRoot !== true && psc.runAsNonRoot !== true) who('runAsNonRoot is not true');
        if ((sc.runAsUser ?? psc.runAsUser) === 0) who('runs as UID 0');
        if (sc.allowPrivilegeEscalation !== false) who('allowPrivilegeEscalation is not false');
        if (sc.privileged) who('privileged');
        if (!(sc.capabilities?.drop ?? []).includes('ALL')) who('does not drop ALL capabilities');
        if ((sc.capabilities?.add ?? []).length) who('adds capabilities');
        if (sc.readOnlyRootFilesystem !== true) who('root filesystem is writable');
        for (const kind of ['requests', 'limits']) {
          for (const r of ['cpu', 'memory']) if (!c.resources?.[kind]?.[r]) who(`no ${r} ${kind}`);
        }
        if (!c.image || /:latest$|^[^:]+$/.test(c.image)) who(`image ${c.image} has no fixed tag`);
      }
    }
    return problems;
  });

  await check('k8s: the four services run 2+ replicas with /health readiness and a cheap liveness', () => {
    const problems = [];
    for (const [name, port] of Object.entries(SERVICES)) {
      const d = all.find((x) => x.kind === 'Deployment' && x.metadata.name === name);
      if (!d) {
        problems.push(`no Deployment ${name}`);
        continue;
      }
      const c = d.spec.template.spec.containers.find((x) => x.name === name);
      if (!(d.spec.replicas >= 2)) problems.push(`${name}: replicas ${d.spec.replicas}`);
      if (c?.image?.split(':')[0] !== `craftista/${name}`) problems.push(`${name}: image ${c?.image}`);
      if (!(c?.ports ?? []).some((p) => p.containerPort === port)) problems.push(`${name}: container port is not ${port}`);
      const env = Object.fromEntries((c?.env ?? []).map((e) => [e.name, e.value]));
      if (env.PORT !== String(port)) problems.push(`${name}: PORT is ${env.PORT}, not ${port}`);
      if (c?.readinessProbe?.httpGet?.path !== '/health') problems.push(`${name}: readiness is not GET /health`);
      const live = c?.livenessProbe?.httpGet?.path;
      if (!live || live === '/health') problems.push(`${name}: liveness ${live} (must not depend on the database)`);
      const svc = all.find((x) => x.kind === 'Service' && x.metadata.name === name);
      if (!svc || !svc.spec.ports.some((p) => p.port === port)) problems.push(`${name}: no Service on port ${port}`);
      if (!all.some((x) => x.kind === 'PodDisruptionBudget' && x.metadata.name === name)) problems.push(`${name}: no PodDisruptionBudget`);
    }
    return problems;
  });

  await check('k8s: service URLs in the ConfigMap name existing Services and ports', () => {
    const problems = [];
    const data = configMaps.get('craftista-config')?.data ?? {};
    const svcPorts = new Map(all.filter((d) => d.kind === 'Service').map((d) => [d.metadata.name, d.spec.ports.map((p) => p.port)]));
    for (const [key, value] of Object.entries(data)) {
      if (!/^https?:\/\//.test(value)) continue;
      const u = new URL(value);
      const port = Number(u.port || (u.protocol === 'https:' ? 443 : 80));
      if (!(svcPorts.get(u.hostname) ?? []).includes(port)) problems.push(`${key}=${value}: no Service ${u.hostname} on port ${port}`);
    }
    for (const key of ['POSTGRES_HOST', 'REDIS_HOST']) {
      if (!svcPorts.has(data[key])) problems.push(`${key}=${data[key]}: no such Service`);
    }
    if (data.JWT_ISSUER !== data.BASE_URL) problems.push("JWT_ISSUER differs from auth's BASE_URL");
    if (data.DEPLOYMENT_ENVIRONMENT === 'development') problems.push('DEPLOYMENT_ENVIRONMENT is development');
    return problems;
  });

  await check('k8s: auth reads its keys from the mounted Secret', () => {
    const d = all.find((x) => x.kind === 'Deployment' && x.metadata.name === 'auth');
    const c = d?.spec.template.spec.containers[0];
    const env = Object.fromEntries((c?.env ?? []).map((e) => [e.name, e.value]));
    const problems = [];
    for (const key of ['RSA_PRIVATE_KEY_PATH', 'RSA_PUBLIC_KEY_PATH']) {
      const file = env[key];
      const ok = (c?.volumeMounts ?? []).some((vm) => {
        const vol = d.spec.template.spec.volumes.find((v) => v.name === vm.name);
        return vol?.secret && file?.startsWith(`${vm.mountPath}/`) && (vol.secret.items ?? []).some((it) => `${vm.mountPath}/${it.path}` === file);
      });
      if (!ok) problems.push(`${key}=${file} is not a file of a mounted Secret`);
    }
    return problems;
  });

  await check('k8s: every craftista image is pinned in kustomization.yaml', () => {
    const listed = new Set((k.images ?? []).map((i) => i.name));
    const used = new Set(workloads.flatMap((m) => containersOf(podSpec(m.doc)).map((c) => c.image.split(':')[0])));
    return [...used].filter((i) => i.startsWith('craftista/') && !listed.has(i)).map((i) => `${i} is not in images`);
  });

  await check("k8s: the collector's configuration equals deploy/otel-collector.yaml", () => {
    const cm = configMaps.get('otel-collector-config');
    const embedded = YAML.parse(cm?.data?.['config.yaml'] ?? '');
    const file = YAML.parse(read('deploy/otel-collector.yaml'));
    return JSON.stringify(embedded) === JSON.stringify(file) ? [] : ['they differ'];
  });
}

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
  const abs = path.join(REPO, rel);
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
          if (!fs.existsSync(path.join(REPO, rel))) {
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
      'tests/browser/artifacts/a.png', 'bench/results/r.txt', '.env', 'deploy/k8s/keys/private.pem',
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

  await check('Dockerfile: the build stage compiles with Release and no tests; the runtime has no compiler', () => {
    const problems = [];
    const build = stages.find((x) => x.name === 'build');
    const runs = (s) => (s?.ins ?? []).filter((i) => i.op === 'RUN').map((i) => i.args).join(' ');
    if (!/-DCMAKE_BUILD_TYPE=Release/.test(runs(build)) || !/-DCRAFT_TESTS=OFF/.test(runs(build))) {
      problems.push('build: cmake is not run with -DCMAKE_BUILD_TYPE=Release -DCRAFT_TESTS=OFF');
    }
    const rt = runs(stages.find((x) => x.name === 'runtime'));
    for (const word of rt.split(/\s+/)) {
      if (['gcc', 'cc', 'clang', 'cmake', 'make', 'build-essential', 'curl'].includes(word) || /-dev$/.test(word)) {
        problems.push(`runtime installs ${word}`);
      }
    }
    for (const pkg of ['libmicrohttpd12', 'libjansson4', 'libpq5', 'libhiredis0.14', 'libcurl4', 'libssl3', 'libcrypt1', 'zlib1g', 'ca-certificates']) {
      if (!new RegExp(`(^|\\s)${pkg.replace('.', '\\.')}(\\s|$)`).test(rt)) problems.push(`runtime does not install ${pkg}`);
    }
    if (!/--no-install-recommends/.test(rt) || !/rm -rf \/var\/lib\/apt\/lists/.test(rt)) problems.push('runtime apt-get is not minimal');
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

  await check('compose: URLs between services, JWT settings and shared secrets agree', () => {
    const problems = [];
    const env = Object.fromEntries(Object.keys(services).map((n) => [n, Object.fromEntries(Object.entries(composeEnv(services[n])).map(([k, v]) => [k, defaults(v)]))]));
    for (const [name, e] of Object.entries(env)) {
      for (const [key, value] of Object.entries(e)) {
        if (!/^https?:\/\//.test(value)) continue;
        const u = new URL(value);
        const target = services[u.hostname];
        if (!target) {
          problems.push(`${name} ${key}=${value}: no service ${u.hostname}`);
          continue;
        }
        const port = u.port || '80';
        const listens = env[u.hostname].PORT ?? { 'otel-collector': '4318', jaeger: '4317' }[u.hostname];
        if (listens !== port) problems.push(`${name} ${key}=${value}: ${u.hostname} listens on ${listens}`);
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
}

// ---------------------------------------------------------------- main

await k8sChecks();
await dockerChecks();
await composeChecks();
console.log(`\n${results.passed} passed, ${results.failed} failed`);
process.exitCode = results.failed ? 1 : 0;
