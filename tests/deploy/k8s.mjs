// k8s.mjs - the Kubernetes half of the deployment check (check.mjs runs it).
//
// deploy/k8s is a kustomize base and overlays; each overlay is rendered with
// `kubectl kustomize` (KUBECTL overrides the command) on a copy where the Secret
// generators read the committed examples and placeholder key files, so no real
// secret is ever read. Every rendered object is then checked: its schema
// (kubernetes-models, unknown fields included), the references between objects,
// pod security, probes against the services' route tables, variables against
// what the programs read, pinned images, autoscaling within PostgreSQL's
// connections, NetworkPolicies against the connections the configuration needs,
// the Ingress against the frontend's public routes, the collector's
// configuration and Jaeger's memory bound.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import YAML from 'yaml';
import { check, ctx, parseAll, programOf, read, routeFor, SERVICES } from './common.mjs';
import { allowed, egressRestricted } from './netpol.mjs';
import { valueProblem } from './sources.mjs';
import {
  collectorOtlpPorts, collectorProblems, collectorTargets, IMAGE_VARIABLES, imageProblems, jaegerProblems,
  parseImage, postgresSetting, serverPort,
} from './rules.mjs';

const KUBECTL = process.env.KUBECTL || 'kubectl';
const k8sDir = () => path.join(ctx.repo, 'deploy/k8s');
const NAMESPACE = 'craftista';
// The ingress controller the NetworkPolicies admit (base/network-policies.yaml).
const CONTROLLER = {
  name: 'the ingress controller',
  namespace: 'ingress-nginx',
  nsLabels: { 'kubernetes.io/metadata.name': 'ingress-nginx' },
  labels: { 'app.kubernetes.io/name': 'ingress-nginx' },
  ports: [],
};
const STRANGER = { name: 'a pod of another namespace', namespace: 'other', nsLabels: { 'kubernetes.io/metadata.name': 'other' }, labels: {}, ports: [] };
const KUBE_DNS = {
  name: 'kube-dns', namespace: 'kube-system', nsLabels: { 'kubernetes.io/metadata.name': 'kube-system' },
  labels: { 'k8s-app': 'kube-dns' }, ports: [{ name: 'dns', containerPort: 53, protocol: 'UDP' }],
};

// ---------------------------------------------------------------- rendering

function overlayNames() {
  const dir = path.join(k8sDir(), 'overlays');
  return fs.existsSync(dir) ? fs.readdirSync(dir).filter((d) => fs.existsSync(path.join(dir, d, 'kustomization.yaml'))).sort() : [];
}

// Point the overlay's Secret generators at the committed examples and at
// placeholder key files.
function prepareGenerators(dir) {
  const k = parseAll(fs.readFileSync(path.join(dir, 'kustomization.yaml'), 'utf8'))[0] ?? {};
  for (const g of k.secretGenerator ?? []) {
    for (const env of [g.env, ...(g.envs ?? [])].filter(Boolean)) {
      const file = path.join(dir, env);
      if (fs.existsSync(`${file}.example`)) fs.copyFileSync(`${file}.example`, file);
    }
    for (const spec of g.files ?? []) {
      const file = path.join(dir, spec.split('=').at(-1));
      fs.mkdirSync(path.dirname(file), { recursive: true });
      fs.writeFileSync(file, 'placeholder\n');
    }
  }
}

// {overlay: {docs} | {error}}
function renderOverlays() {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'craft-k8s-'));
  const out = {};
  try {
    fs.cpSync(k8sDir(), path.join(tmp, 'k8s'), { recursive: true });
    for (const name of overlayNames()) {
      const dir = path.join(tmp, 'k8s/overlays', name);
      prepareGenerators(dir);
      const r = spawnSync(KUBECTL, ['kustomize', dir], { encoding: 'utf8', timeout: 60000 });
      const err = (r.stderr ?? '').split('\n').filter((l) => l && !l.startsWith('# Warning:')).join('\n');
      out[name] = r.status === 0 ? { docs: parseAll(r.stdout) } : { error: `${KUBECTL} kustomize failed: ${r.error ?? err}` };
    }
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
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

// ---------------------------------------------------------------- helpers

const WORKLOADS = new Set(['Deployment', 'StatefulSet', 'DaemonSet', 'Job']);
const podSpec = (doc) => (WORKLOADS.has(doc.kind) ? doc.spec?.template?.spec : undefined);
const podLabels = (doc) => doc.spec?.template?.metadata?.labels ?? {};
const matches = (selector, labels) =>
  Object.entries(selector ?? {}).every(([k, v]) => labels[k] === v) && Object.keys(selector ?? {}).length > 0;
const containersOf = (spec) => [...(spec?.initContainers ?? []), ...(spec?.containers ?? [])];
const probesOf = (c) => ['startupProbe', 'readinessProbe', 'livenessProbe'].filter((p) => c[p]).map((p) => [p, c[p]]);
const imageName = (c) => parseImage(c.image ?? '').name;
// The program of a craftista/<name> image (sources.mjs), else null.
const programName = (c) => imageName(c).match(/^craftista\/(.+)$/)?.[1] ?? null;

const secretKeys = (s) => new Set([...Object.keys(s.data ?? {}), ...Object.keys(s.stringData ?? {})]);

// A container's environment as the kubelet builds it: envFrom, then env.
// Values from Secrets are unknown (undefined); `from` says where each came from.
function effectiveEnv(c, configMaps) {
  const env = {};
  for (const ef of c.envFrom ?? []) {
    const cm = ef.configMapRef && configMaps.get(ef.configMapRef.name);
    for (const [k, v] of Object.entries(cm?.data ?? {})) env[k] = { value: v, from: `ConfigMap ${cm.metadata.name}` };
  }
  for (const e of c.env ?? []) {
    const ref = e.valueFrom?.configMapKeyRef;
    const value = ref ? configMaps.get(ref.name)?.data?.[ref.key] : e.value;
    env[e.name] = { value, from: 'env' };
  }
  return env;
}

const values = (env) => Object.fromEntries(Object.entries(env).map(([k, v]) => [k, v.value]));

// The Service `host` names (name, name.ns, name.ns.svc[.cluster.local]).
function serviceByHost(all, host) {
  const [name, ns] = String(host).split('.');
  if (ns && ns !== NAMESPACE) return undefined;
  return all.find((d) => d.kind === 'Service' && d.metadata.name === name);
}

// ---------------------------------------------------------------- the model of one overlay

function model(overlay, docs) {
  const all = docs;
  const items = docs.map((doc, index) => ({ overlay, index, doc }));
  const workloads = items.filter((m) => podSpec(m.doc));
  const configMaps = new Map(all.filter((d) => d.kind === 'ConfigMap').map((d) => [d.metadata.name, d]));
  const secrets = new Map(all.filter((d) => d.kind === 'Secret').map((d) => [d.metadata.name, secretKeys(d)]));
  const ns = all.find((d) => d.kind === 'Namespace' && d.metadata.name === NAMESPACE);
  const nsLabels = { ...(ns?.metadata?.labels ?? {}), 'kubernetes.io/metadata.name': NAMESPACE };
  const pods = workloads.map((m) => ({
    name: m.doc.metadata.name,
    kind: m.doc.kind,
    doc: m.doc,
    namespace: m.doc.metadata.namespace ?? NAMESPACE,
    nsLabels,
    labels: podLabels(m.doc),
    containers: containersOf(podSpec(m.doc)),
    ports: containersOf(podSpec(m.doc)).flatMap((c) => c.ports ?? []),
  }));
  const deployment = (name) => all.find((d) => d.kind === 'Deployment' && d.metadata.name === name);
  const env = (name) => {
    const c = deployment(name)?.spec.template.spec.containers.find((x) => x.name === name);
    return c ? values(effectiveEnv(c, configMaps)) : {};
  };
  return { overlay, all, items, workloads, configMaps, secrets, pods, deployment, env };
}

const where = (m) => `${m.overlay} ${m.doc?.kind}/${m.doc?.metadata?.name}`;

// The pod and container port a Service port leads to: {pod, port} or undefined.
function resolveServicePort(M, svc, port) {
  const sp = (svc?.spec?.ports ?? []).find((p) => p.port === Number(port));
  if (!sp) return undefined;
  const pod = M.pods.find((p) => matches(svc.spec.selector, p.labels));
  const target = sp.targetPort ?? sp.port;
  const cp = pod?.ports.find((p) => p.name === target || p.containerPort === target);
  return pod && cp ? { pod, port: cp } : undefined;
}

// Every connection the configuration asks for: [{from, to, port, why}].
function neededConnections(M) {
  const out = [];
  const add = (from, host, port, why) => {
    const r = resolveServicePort(M, serviceByHost(M.all, host), port);
    if (r && r.pod !== from) out.push({ from, to: r.pod, port: r.port, why });
  };
  for (const pod of M.pods) {
    for (const c of pod.containers) {
      const prog = programOf(programName(c));
      if (!prog) continue;
      const env = values(effectiveEnv(c, M.configMaps));
      for (const [k, v] of Object.entries(env)) {
        if (!prog.vars.has(k) || !/^https?:\/\//.test(v ?? '')) continue;
        const u = new URL(v);
        add(pod, u.hostname, u.port || (u.protocol === 'https:' ? 443 : 80), k);
      }
      for (const [host, port, dflt] of [['POSTGRES_HOST', 'POSTGRES_PORT', 5432], ['REDIS_HOST', 'REDIS_PORT', 6379]]) {
        if (prog.vars.has(host) && env[host]) add(pod, env[host], env[port] ?? dflt, host);
      }
    }
  }
  const collector = M.pods.find((p) => p.containers.some((c) => /opentelemetry-collector/.test(imageName(c))));
  const cfg = YAML.parse(M.configMaps.get('otel-collector-config')?.data?.['config.yaml'] ?? '{}');
  for (const t of collectorTargets(cfg)) if (collector) add(collector, t.host, t.port, `exporter ${t.id}`);
  for (const ing of M.all.filter((d) => d.kind === 'Ingress')) {
    for (const rule of ing.spec?.rules ?? []) {
      for (const p of rule.http?.paths ?? []) {
        const b = p.backend?.service;
        const svc = serviceByHost(M.all, b?.name);
        const sp = (svc?.spec?.ports ?? []).find((x) => x.name === b?.port?.name || x.port === b?.port?.number);
        if (sp) add(CONTROLLER, b.name, sp.port, `Ingress ${ing.metadata.name}`);
      }
    }
  }
  return out;
}

// ---------------------------------------------------------------- checks

async function structureChecks() {
  await check('k8s: the base lists every manifest, overlays exist and share the namespace', () => {
    const problems = [];
    const base = path.join(k8sDir(), 'base');
    const k = parseAll(fs.readFileSync(path.join(base, 'kustomization.yaml'), 'utf8'))[0];
    const listed = new Set(k.resources ?? []);
    for (const f of listed) if (!fs.existsSync(path.join(base, f))) problems.push(`base: ${f} is listed but missing`);
    for (const f of fs.readdirSync(base)) {
      if (/\.ya?ml$/.test(f) && f !== 'kustomization.yaml' && !listed.has(f)) problems.push(`base: ${f} is not listed in resources`);
    }
    if (k.namespace !== NAMESPACE) problems.push(`base: namespace is ${k.namespace}, not ${NAMESPACE}`);
    for (const want of ['development', 'production']) if (!overlayNames().includes(want)) problems.push(`no overlay ${want}`);
    for (const o of overlayNames()) {
      const ok = parseAll(read(`deploy/k8s/overlays/${o}/kustomization.yaml`))[0];
      if (ok.namespace !== NAMESPACE) problems.push(`overlay ${o}: namespace is ${ok.namespace}, not ${NAMESPACE}`);
    }
    return problems;
  });
}

async function objectChecks(M) {
  for (const m of M.items) await check(`k8s schema: ${where(m)}`, () => validateDoc(m.doc));
  const { overlay, all, workloads, configMaps, secrets } = M;

  await check(`k8s ${overlay}: every object is in the craftista namespace (except the Namespace)`, () =>
    M.items.filter((m) => m.doc.kind !== 'Namespace' && m.doc.metadata?.namespace !== NAMESPACE).map((m) => `${where(m)}: namespace ${m.doc.metadata?.namespace}`),
  );

  await check(`k8s ${overlay}: workload selectors match their pod labels`, () =>
    workloads
      .filter((m) => m.doc.kind !== 'Job' && !matches(m.doc.spec.selector?.matchLabels, podLabels(m.doc)))
      .map((m) => `${where(m)}: selector does not match the template's labels`),
  );

  await check(`k8s ${overlay}: Services select a workload and target one of its ports`, () => {
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
        if (!ports.some((cp) => cp.name === t || cp.containerPort === t)) problems.push(`Service/${svc.metadata.name} port ${p.name}: no container port ${t}`);
      }
    }
    return problems;
  });

  await check(`k8s ${overlay}: ConfigMap and Secret references exist (names and keys)`, () => {
    const problems = [];
    for (const m of workloads) {
      const spec = podSpec(m.doc);
      for (const c of containersOf(spec)) {
        for (const e of c.env ?? []) {
          const cm = e.valueFrom?.configMapKeyRef;
          const sk = e.valueFrom?.secretKeyRef;
          if (cm && !(cm.key in (configMaps.get(cm.name)?.data ?? {}))) problems.push(`${where(m)} ${c.name} ${e.name}: ConfigMap ${cm.name} has no key ${cm.key}`);
          if (sk && !secrets.get(sk.name)?.has(sk.key)) problems.push(`${where(m)} ${c.name} ${e.name}: Secret ${sk.name} has no key ${sk.key}`);
        }
        for (const ef of c.envFrom ?? []) {
          if (ef.configMapRef && !configMaps.has(ef.configMapRef.name)) problems.push(`${where(m)}: no ConfigMap ${ef.configMapRef.name}`);
          if (ef.secretRef && !secrets.has(ef.secretRef.name)) problems.push(`${where(m)}: no Secret ${ef.secretRef.name}`);
        }
        for (const vm of c.volumeMounts ?? []) {
          const claim = (m.doc.spec.volumeClaimTemplates ?? []).some((t) => t.metadata.name === vm.name);
          if (!(spec.volumes ?? []).some((v) => v.name === vm.name) && !claim) problems.push(`${where(m)} ${c.name}: mount of unknown volume ${vm.name}`);
        }
      }
      for (const v of spec.volumes ?? []) {
        if (v.configMap && !configMaps.has(v.configMap.name)) problems.push(`${where(m)}: no ConfigMap ${v.configMap.name}`);
        if (v.secret) {
          const keys = secrets.get(v.secret.secretName);
          if (!keys) problems.push(`${where(m)}: no Secret ${v.secret.secretName}`);
          for (const it of v.secret.items ?? []) if (keys && !keys.has(it.key)) problems.push(`${where(m)}: Secret ${v.secret.secretName} has no key ${it.key}`);
        }
        if (!containersOf(spec).some((c) => (c.volumeMounts ?? []).some((vm) => vm.name === v.name))) problems.push(`${where(m)}: volume ${v.name} is never mounted`);
      }
    }
    return problems;
  });

  await check(`k8s ${overlay}: pods meet the restricted Pod Security Standard and set resources`, () => {
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
        for (const kind of ['requests', 'limits']) for (const r of ['cpu', 'memory']) if (!c.resources?.[kind]?.[r]) who(`no ${r} ${kind}`);
        for (const [kind, probe] of probesOf(c)) {
          const port = probe.httpGet?.port ?? probe.tcpSocket?.port;
          if (port !== undefined && !(c.ports ?? []).some((p) => p.name === port || p.containerPort === port)) who(`${kind}: port ${port} is not a container port`);
        }
      }
    }
    return problems;
  });
}

async function serviceChecks(M) {
  const { overlay, all } = M;
  const production = overlay !== 'development';

  await check(`k8s ${overlay}: the services run the mode of the overlay, with /health readiness and a cheap liveness`, () => {
    const problems = [];
    const mode = production ? 'production' : 'development';
    for (const [name, port] of Object.entries(SERVICES)) {
      const d = M.deployment(name);
      const c = d?.spec.template.spec.containers.find((x) => x.name === name);
      if (!c) {
        problems.push(`no Deployment ${name} with a container ${name}`);
        continue;
      }
      const env = M.env(name);
      if (programName(c) !== name) problems.push(`${name}: image ${c.image}`);
      if (!(c.ports ?? []).some((p) => p.containerPort === port)) problems.push(`${name}: container port is not ${port}`);
      if (env.PORT !== String(port)) problems.push(`${name}: PORT is ${env.PORT}, not ${port}`);
      if (env.DEPLOYMENT_ENVIRONMENT !== mode) problems.push(`${name}: DEPLOYMENT_ENVIRONMENT is ${env.DEPLOYMENT_ENVIRONMENT}, not ${mode}`);
      if (c.readinessProbe?.httpGet?.path !== '/health') problems.push(`${name}: readiness is not GET /health`);
      const live = c.livenessProbe?.httpGet?.path;
      if (!live || live === '/health') problems.push(`${name}: liveness ${live} (must not depend on the database)`);
      const svc = all.find((x) => x.kind === 'Service' && x.metadata.name === name);
      if (!svc || !svc.spec.ports.some((p) => p.port === port)) problems.push(`${name}: no Service on port ${port}`);
      if (!all.some((x) => x.kind === 'PodDisruptionBudget' && x.metadata.name === name)) problems.push(`${name}: no PodDisruptionBudget`);
    }
    if (production && M.env('frontend').NODE_ENV !== 'production') problems.push('frontend: NODE_ENV is not production (cookies without Secure)');
    return problems;
  });

  // The images hold only the program and craft-healthcheck: no shell, no sleep.
  await check(`k8s ${overlay}: commands run in our containers (hooks, exec probes) are programs their image holds`, () => {
    const problems = [];
    for (const name of Object.keys(SERVICES)) {
      const c = M.deployment(name)?.spec.template.spec.containers.find((x) => x.name === name);
      if (!c) continue;
      const held = new Set([`/usr/local/bin/craft-${name}`, '/usr/local/bin/craft-healthcheck']);
      const execs = [
        ...['preStop', 'postStart'].map((h) => [`lifecycle.${h}`, c.lifecycle?.[h]?.exec?.command]),
        ...probesOf(c).map(([p, probe]) => [p, probe.exec?.command]),
      ];
      for (const [at, cmd] of execs) {
        if (cmd && !held.has(cmd[0])) problems.push(`${name}: ${at} runs ${JSON.stringify(cmd[0])}, which the image does not hold (only ${[...held].join(', ')})`);
      }
      const pause = c.lifecycle?.preStop?.exec?.command;
      if (pause?.[0] === '/usr/local/bin/craft-healthcheck' && !(pause[1] === '--pause' && /^[1-9]\d*$/.test(pause[2] ?? '') && Number(pause[2]) <= 60)) {
        problems.push(`${name}: preStop ${JSON.stringify(pause)} is not craft-healthcheck --pause 1..60`);
      }
    }
    return problems;
  });

  await check(`k8s ${overlay}: probe paths are routes the services serve (services/*/routes.c, lib/craft)`, () => {
    const problems = [];
    for (const pod of M.pods) {
      for (const c of pod.containers) {
        const svc = programName(c);
        if (!ctx.sources.services[svc]) continue;
        for (const [kind, probe] of probesOf(c)) {
          const p = probe.httpGet?.path;
          if (p !== undefined && !routeFor(svc, p)) problems.push(`${pod.name} ${kind}: GET ${p} is served by no route of ${svc}`);
        }
      }
    }
    return problems;
  });

  await check(`k8s ${overlay}: every variable given to a container is one its program reads`, () => {
    const problems = [];
    const readers = new Map(); // ConfigMap -> [{pod, allowed}]
    for (const pod of M.pods) {
      for (const c of pod.containers) {
        const prog = programOf(programName(c));
        const known = prog ? prog.vars : IMAGE_VARIABLES[imageName(c)] && new Set(IMAGE_VARIABLES[imageName(c)]);
        if (!known) {
          problems.push(`${pod.name} ${c.name}: no list of the variables ${imageName(c)} reads (tests/deploy/rules.mjs)`);
          continue;
        }
        const reader = prog ? `craft-${programName(c)}` : imageName(c);
        for (const e of c.env ?? []) if (!known.has(e.name)) problems.push(`${pod.name} ${c.name}: ${e.name} is not a variable ${reader} reads`);
        for (const ef of c.envFrom ?? []) {
          const name = ef.configMapRef?.name ?? ef.secretRef?.name;
          readers.set(name, [...(readers.get(name) ?? []), { who: pod.name, known }]);
        }
      }
    }
    for (const [name, rs] of readers) {
      const keys = M.configMaps.has(name) ? Object.keys(M.configMaps.get(name).data ?? {}) : [...(M.secrets.get(name) ?? [])];
      for (const k of keys) {
        if (!rs.some((r) => r.known.has(k))) problems.push(`${name}: ${k} is read by none of ${rs.map((r) => r.who).join(', ')}`);
      }
    }
    return problems;
  });

  await check(`k8s ${overlay}: every value fits the type and bounds its program declares (config.h)`, () => {
    const problems = [];
    for (const pod of M.pods) {
      for (const c of pod.containers) {
        const prog = programOf(programName(c));
        if (!prog) continue;
        for (const [k, v] of Object.entries(values(effectiveEnv(c, M.configMaps)))) {
          const p = valueProblem(k, v, prog.specs[k]);
          if (p) problems.push(`${pod.name} ${c.name}: ${p}`);
        }
      }
    }
    return problems;
  });

  await check(`k8s ${overlay}: service URLs, hosts and ports in the ConfigMap lead to the right servers`, () => {
    const problems = [];
    const data = M.configMaps.get('craftista-config')?.data ?? {};
    for (const [key, value] of Object.entries(data)) {
      if (!/^https?:\/\//.test(value)) continue;
      const u = new URL(value);
      const port = Number(u.port || (u.protocol === 'https:' ? 443 : 80));
      if (!resolveServicePort(M, serviceByHost(all, u.hostname), port)) problems.push(`${key}=${value}: no Service ${u.hostname} on port ${port}`);
    }
    for (const [hostKey, portKey, dflt] of [['POSTGRES_HOST', 'POSTGRES_PORT', 5432], ['REDIS_HOST', 'REDIS_PORT', 6379]]) {
      const svc = serviceByHost(all, data[hostKey]);
      if (!svc) {
        problems.push(`${hostKey}=${data[hostKey]}: no such Service`);
        continue;
      }
      const port = Number(data[portKey] ?? dflt);
      const r = resolveServicePort(M, svc, port);
      if (!r) {
        problems.push(`${portKey}=${port}: Service ${svc.metadata.name} has no port ${port}`);
        continue;
      }
      const c = r.pod.containers.find((x) => (x.ports ?? []).includes(r.port));
      const listens = serverPort(imageName(c), [...(c.command ?? []), ...(c.args ?? [])], values(effectiveEnv(c, M.configMaps)));
      if (listens !== undefined && listens !== r.port.containerPort) problems.push(`${portKey}=${port}: ${svc.metadata.name} leads to container port ${r.port.containerPort}, but ${imageName(c)} listens on ${listens}`);
    }
    if (data.JWT_ISSUER !== data.BASE_URL) problems.push("JWT_ISSUER differs from auth's BASE_URL");
    return problems;
  });

  if (production) {
    await check(`k8s ${overlay}: auth reads its keys from the mounted Secret`, () => {
      const d = M.deployment('auth');
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
  }
}

async function imageChecks(M) {
  await check(`k8s ${M.overlay}: every image is pinned to one release (no floating tag), PostgreSQL 15+ and Redis 7+`, () =>
    M.pods.flatMap((pod) => pod.containers.flatMap((c) => imageProblems(c.image).map((p) => `${pod.name} ${c.name}: ${p}`))),
  );
}

// maxSurge of a Deployment for `replicas` pods (default 25 %, rounded up).
function surge(d, replicas) {
  if (d.spec?.strategy?.type === 'Recreate') return 0;
  const s = d.spec?.strategy?.rollingUpdate?.maxSurge ?? '25%';
  return typeof s === 'string' && s.endsWith('%') ? Math.ceil((replicas * Number(s.slice(0, -1))) / 100) : Number(s);
}

async function scalingChecks(M) {
  const { overlay, all } = M;
  const hpas = all.filter((d) => d.kind === 'HorizontalPodAutoscaler');
  const hpaOf = (name) => hpas.filter((h) => h.spec?.scaleTargetRef?.kind === 'Deployment' && h.spec.scaleTargetRef.name === name);
  const minFloor = overlay === 'development' ? 1 : 2;

  await check(`k8s ${overlay}: each stateless service has one autoscaling/v2 HorizontalPodAutoscaler on CPU`, () => {
    const problems = [];
    for (const name of Object.keys(SERVICES)) {
      const d = M.deployment(name);
      const hs = hpaOf(name);
      if (hs.length !== 1) {
        problems.push(`${name}: ${hs.length} HorizontalPodAutoscalers`);
        continue;
      }
      const h = hs[0].spec;
      if (hs[0].apiVersion !== 'autoscaling/v2') problems.push(`${name}: HorizontalPodAutoscaler is ${hs[0].apiVersion}`);
      if (!(h.minReplicas >= minFloor)) problems.push(`${name}: minReplicas ${h.minReplicas} (at least ${minFloor} here)`);
      if (!(h.maxReplicas >= (h.minReplicas ?? 1))) problems.push(`${name}: maxReplicas ${h.maxReplicas} below minReplicas`);
      if (d?.spec?.replicas !== undefined) problems.push(`${name}: the Deployment sets replicas (${d.spec.replicas}), which every apply would reset under the autoscaler`);
      const cpu = (h.metrics ?? []).some((m) => m.type === 'Resource' && m.resource?.name === 'cpu');
      if (!cpu) problems.push(`${name}: the autoscaler does not scale on CPU`);
      if (cpu && !d?.spec.template.spec.containers.every((c) => c.resources?.requests?.cpu)) problems.push(`${name}: CPU utilisation needs a CPU request`);
    }
    for (const h of hpas) if (!M.deployment(h.spec?.scaleTargetRef?.name)) problems.push(`HorizontalPodAutoscaler/${h.metadata.name} targets no Deployment`);
    // Without a shared key pair every auth replica would sign with a key of its own.
    const auth = M.deployment('auth')?.spec.template.spec;
    const keyFile = M.env('auth').RSA_PRIVATE_KEY_PATH ?? '';
    const c = auth?.containers.find((x) => x.name === 'auth');
    const mount = (c?.volumeMounts ?? []).find((vm) => keyFile.startsWith(`${vm.mountPath}/`));
    const shared = (auth?.volumes ?? []).find((v) => v.name === mount?.name)?.secret;
    const max = hpaOf('auth')[0]?.spec.maxReplicas;
    if (auth && !shared && max !== 1) problems.push(`auth: its keys (${keyFile}) are not a mounted Secret, so it must run one replica, not up to ${max}`);
    return problems;
  });

  await check(`k8s ${overlay}: PostgreSQL pools x maximum replicas (+ rollout surge) fit max_connections`, () => {
    const pg = M.pods.find((p) => p.containers.some((c) => imageName(c) === 'postgres'));
    if (!pg) return [];
    const pgc = pg.containers.find((c) => imageName(c) === 'postgres');
    const args = [...(pgc.command ?? []), ...(pgc.args ?? [])];
    const maxConn = postgresSetting(args, 'max_connections', 100);
    const reserved = postgresSetting(args, 'superuser_reserved_connections', 3);
    const problems = [];
    const terms = [];
    let total = reserved;
    for (const pod of M.pods) {
      for (const c of pod.containers) {
        const prog = programOf(programName(c));
        const env = values(effectiveEnv(c, M.configMaps));
        if (!prog?.vars.has('POSTGRES_HOST') || serviceByHost(all, env.POSTGRES_HOST ?? 'localhost') === undefined) continue;
        if (!prog.vars.has('PG_POOL_SIZE')) {
          const n = pod.kind === 'Job' ? (pod.doc.spec.parallelism ?? 1) : (pod.doc.spec.replicas ?? 1);
          terms.push(`${pod.name} ${n}`);
          total += n;
          continue;
        }
        const pool = Number(env.PG_POOL_SIZE ?? 0);
        if (!(pool > 0)) {
          problems.push(`${pod.name}: PG_POOL_SIZE is ${env.PG_POOL_SIZE ?? 'unset'} (one connection per node core): the budget has no bound`);
          continue;
        }
        const h = hpaOf(pod.name)[0];
        const max = h?.spec.maxReplicas ?? pod.doc.spec.replicas ?? 1;
        const extra = surge(pod.doc, max);
        terms.push(`${pod.name} (${max}+${extra})x${pool}=${(max + extra) * pool}`);
        total += (max + extra) * pool;
      }
    }
    if (total > maxConn) {
      problems.push(`${terms.join(' + ')} + ${reserved} reserved = ${total} connections > max_connections ${maxConn}`);
    }
    return problems;
  });
}

async function networkChecks(M) {
  const policies = M.all.filter((d) => d.kind === 'NetworkPolicy');
  const needed = neededConnections(M);
  const label = (c) => `${c.from.name} -> ${c.to.name}:${c.port.containerPort}`;

  await check(`k8s ${M.overlay}: NetworkPolicies let through every connection the configuration needs`, () =>
    needed.filter((c) => !allowed(policies, c.from, c.to, c.port)).map((c) => `${label(c)} (${c.why}) is blocked`),
  );

  await check(`k8s ${M.overlay}: NetworkPolicies refuse every other connection (default deny, callers only)`, () => {
    const problems = [];
    for (const from of [...M.pods, CONTROLLER, STRANGER]) {
      for (const to of M.pods) {
        if (to === from) continue;
        for (const port of to.ports) {
          const need = needed.some((c) => c.from === from && c.to === to && c.port === port);
          if (!need && allowed(policies, from, to, port)) problems.push(`${from.name} -> ${to.name}:${port.containerPort} is allowed, but nothing in the configuration needs it`);
        }
      }
      if (egressRestricted(policies, from) && !allowed(policies, from, KUBE_DNS, KUBE_DNS.ports[0])) problems.push(`${from.name}: egress policies block DNS (kube-dns, UDP 53)`);
    }
    return problems;
  });
}

// Does an Ingress path (Exact or Prefix, as Kubernetes matches them) take urlPath?
function ingressTakes(p, urlPath) {
  if (p.pathType === 'Exact') return p.path === urlPath;
  const base = p.path.replace(/\/+$/, '');
  return base === '' || urlPath === base || urlPath.startsWith(`${base}/`);
}

function staticFiles(dir, rel = '') {
  const abs = path.join(dir, rel);
  if (!fs.existsSync(abs)) return [];
  if (!fs.statSync(abs).isDirectory()) return [rel];
  return fs.readdirSync(abs).flatMap((f) => staticFiles(dir, path.posix.join(rel, f)));
}

async function ingressChecks(M) {
  await check(`k8s ${M.overlay}: the Ingress routes the frontend's public paths, and not /health, /metrics or the service page`, () => {
    const problems = [];
    const paths = [];
    for (const ing of M.all.filter((d) => d.kind === 'Ingress')) {
      if (ing.spec?.defaultBackend) problems.push(`Ingress ${ing.metadata.name}: a defaultBackend routes every path`);
      for (const rule of ing.spec?.rules ?? []) {
        for (const p of rule.http?.paths ?? []) {
          if (p.backend?.service?.name !== 'frontend') problems.push(`Ingress ${ing.metadata.name}: ${p.path} goes to ${p.backend?.service?.name ?? p.backend?.resource?.name}, not the frontend`);
          paths.push(p);
        }
      }
    }
    const routed = (u) => paths.some((p) => ingressTakes(p, u));
    for (const r of ctx.sources.services.frontend?.routes ?? []) {
      const u = r.pattern.replace(/\{\w+\}/g, '1');
      // lib's own pages (the service core's routes): health, metrics, the service page.
      const internal = r.internal;
      if (internal && routed(u)) problems.push(`${r.method} ${r.pattern} (${r.handler}) is routed from outside`);
      if (!internal && !routed(u)) problems.push(`${r.method} ${r.pattern} is a public route the Ingress does not route`);
    }
    for (const f of staticFiles(path.join(ctx.repo, 'services/frontend/static'))) {
      if (!routed(`/static/${f}`)) problems.push(`static file /static/${f} is not routed`);
    }
    return problems;
  });
}

async function telemetryChecks(M) {
  const cm = M.configMaps.get('otel-collector-config');
  const embedded = YAML.parse(cm?.data?.['config.yaml'] ?? '');

  await check(`k8s ${M.overlay}: the collector's configuration equals deploy/otel-collector.yaml and is valid`, () => {
    const file = YAML.parse(read('deploy/otel-collector.yaml'));
    const problems = collectorProblems(embedded);
    if (JSON.stringify(embedded) !== JSON.stringify(file)) problems.push('it differs from deploy/otel-collector.yaml');
    return problems;
  });

  await check(`k8s ${M.overlay}: the services' OTLP endpoint is the collector's OTLP/HTTP receiver`, () => {
    const problems = [];
    const ports = collectorOtlpPorts(embedded);
    for (const name of Object.keys(SERVICES)) {
      const ep = M.env(name).OTEL_EXPORTER_OTLP_ENDPOINT;
      if (!ep) {
        problems.push(`${name}: no OTEL_EXPORTER_OTLP_ENDPOINT`);
        continue;
      }
      const u = new URL(ep);
      const r = resolveServicePort(M, serviceByHost(M.all, u.hostname), Number(u.port || 80));
      if (!r || !r.pod.containers.some((c) => /opentelemetry-collector/.test(imageName(c)))) problems.push(`${name}: ${ep} is not the collector`);
      else if (r.port.containerPort !== ports.http) problems.push(`${name}: ${ep} leads to port ${r.port.containerPort}; the OTLP/HTTP receiver listens on ${ports.http}`);
    }
    return problems;
  });

  await check(`k8s ${M.overlay}: Jaeger's trace cap fits its memory limit`, () => {
    const pod = M.pods.find((p) => p.containers.some((c) => imageName(c) === 'jaegertracing/all-in-one'));
    if (!pod) return [];
    const c = pod.containers.find((x) => imageName(x) === 'jaegertracing/all-in-one');
    return jaegerProblems(values(effectiveEnv(c, M.configMaps)), c.resources?.limits?.memory).map((p) => `jaeger: ${p}`);
  });
}

export async function k8sChecks() {
  await structureChecks();
  const rendered = renderOverlays();
  for (const [overlay, r] of Object.entries(rendered)) {
    await check(`k8s ${overlay}: kubectl kustomize renders the overlay`, () => (r.error ? [r.error] : []));
    if (r.error) continue;
    const M = model(overlay, r.docs);
    await objectChecks(M);
    await serviceChecks(M);
    await imageChecks(M);
    await scalingChecks(M);
    await networkChecks(M);
    await ingressChecks(M);
    await telemetryChecks(M);
  }
}

