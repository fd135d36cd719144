// rules.mjs - the deployment rules that compose and Kubernetes share: pinned
// images, the variables third-party images read, the collector's known
// components, memory quantities and Jaeger's bound.

// ---------------------------------------------------------------- images

// PostgreSQL numbers its releases major.minor since 10: 15.8 is exact.
const TWO_PART_VERSIONS = new Set(['postgres']);
// The oldest majors the services are built and tested against (scripts/deps.sh
// installs PostgreSQL 15; Debian 12's Redis is 7).
const MIN_MAJOR = { postgres: { major: 15, what: 'PostgreSQL' }, redis: { major: 7, what: 'Redis' } };

// {repo, name, tag, digest}: name is the repository without registry and library/.
export function parseImage(image) {
  let rest = String(image);
  let digest;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
  }
  let tag;
  const colon = rest.lastIndexOf(':');
  if (colon > rest.lastIndexOf('/')) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
  }
  const parts = rest.split('/');
  if (parts.length > 1 && (/[.:]/.test(parts[0]) || parts[0] === 'localhost')) parts.shift();
  if (parts[0] === 'library') parts.shift();
  return { repo: rest, name: parts.join('/'), tag, digest };
}

// Problems of one image reference: a floating or missing tag, a too old major.
// Pinned: a digest, or a tag naming one release (major.minor.patch, or
// major.minor for PostgreSQL), optionally with a variant suffix (-bookworm).
export function imageProblems(image) {
  const { name, tag, digest } = parseImage(image);
  const problems = [];
  const exact = TWO_PART_VERSIONS.has(name) ? /^(\d+)\.(\d+)(?:\.\d+)?(?:-[0-9A-Za-z.-]+)?$/ : /^v?(\d+)\.(\d+)\.(\d+)(?:[-+][0-9A-Za-z.-]+)?$/;
  if (digest !== undefined && !/^sha256:[0-9a-f]{64}$/.test(digest)) problems.push(`${image}: malformed digest`);
  if (digest === undefined) {
    if (!tag) problems.push(`${image}: no tag (floating: latest)`);
    else if (!exact.test(tag)) problems.push(`${image}: floating tag ${tag} (pin an exact release or a digest)`);
  }
  const min = MIN_MAJOR[name];
  const major = Number(tag?.match(/^v?(\d+)/)?.[1]);
  if (min && tag && major < min.major) problems.push(`${image}: ${min.what} ${major} is older than the supported ${min.major}`);
  if (min && !tag) problems.push(`${image}: ${min.what} version unknown (the supported major is ${min.major} or newer)`);
  return problems;
}

// ---------------------------------------------------------------- third-party variables

// What the third-party images read from the environment (their documentation),
// for the variables compose and the manifests give them.
export const IMAGE_VARIABLES = {
  postgres: ['POSTGRES_USER', 'POSTGRES_PASSWORD', 'POSTGRES_DB', 'POSTGRES_PASSWORD_FILE', 'POSTGRES_USER_FILE',
    'POSTGRES_DB_FILE', 'POSTGRES_INITDB_ARGS', 'POSTGRES_INITDB_WALDIR', 'POSTGRES_HOST_AUTH_METHOD', 'PGDATA', 'PGPORT', 'TZ'],
  // REDIS_PASSWORD only feeds `--requirepass $(REDIS_PASSWORD)`; redis-cli reads REDISCLI_AUTH.
  redis: ['REDISCLI_AUTH', 'REDIS_PASSWORD', 'TZ'],
  'jaegertracing/all-in-one': ['COLLECTOR_OTLP_ENABLED', 'MEMORY_MAX_TRACES', 'SPAN_STORAGE_TYPE', 'QUERY_BASE_PATH',
    'LOG_LEVEL', 'GOMEMLIMIT', 'GOGC', 'TZ'],
  'otel/opentelemetry-collector-contrib': ['GOMEMLIMIT', 'GOGC', 'TZ'],
  'otel/opentelemetry-collector': ['GOMEMLIMIT', 'GOGC', 'TZ'],
};

// The TCP port a third-party server listens on, from its command line and environment.
export function serverPort(imageName, args, env) {
  const words = (args ?? []).map(String).flatMap((a) => a.split(/\s+/));
  const after = (flag) => {
    const i = words.indexOf(flag);
    return i >= 0 ? Number(words[i + 1]) : undefined;
  };
  if (imageName === 'postgres') {
    const c = words.map((w) => w.match(/^port=(\d+)$/)?.[1]).find(Boolean);
    return after('-p') ?? (c ? Number(c) : undefined) ?? (env.PGPORT ? Number(env.PGPORT) : 5432);
  }
  if (imageName === 'redis') return after('--port') ?? 6379;
  return undefined;
}

// PostgreSQL settings given as `-c name=value` (or `--name=value`) arguments.
export function postgresSetting(args, name, fallback) {
  const words = (args ?? []).map(String).flatMap((a) => a.split(/\s+/));
  for (const w of words) {
    const m = w.match(/^(?:--)?([a-z_]+)=(\d+)$/);
    if (m && m[1] === name) return Number(m[2]);
  }
  return fallback;
}

// ---------------------------------------------------------------- quantities

const UNITS = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, K: 1e3, k: 1e3, M: 1e6, G: 1e9, T: 1e12,
  KiB: 2 ** 10, MiB: 2 ** 20, GiB: 2 ** 30, B: 1, '': 1 };

// Bytes of a Kubernetes quantity ("512Mi") or a Go memory limit ("450MiB").
export function bytes(q) {
  const m = String(q ?? '').match(/^(\d+(?:\.\d+)?)([A-Za-z]*)$/);
  if (!m || !(m[2] in UNITS)) return NaN;
  return Number(m[1]) * UNITS[m[2]];
}

// Jaeger's in-memory store: a trace of this shop is a handful of spans (frontend
// -> product -> auth/PostgreSQL/Redis); 16 KiB covers about ten of them with
// their attributes. The process itself needs some 64 MiB besides.
export const JAEGER_TRACE_BYTES = 16 * 2 ** 10;
export const JAEGER_BASE_BYTES = 64 * 2 ** 20;

export function jaegerProblems(env, memoryLimit) {
  const problems = [];
  const traces = Number(env.MEMORY_MAX_TRACES);
  const limit = bytes(memoryLimit);
  if (!Number.isInteger(traces) || traces <= 0) problems.push(`MEMORY_MAX_TRACES is ${env.MEMORY_MAX_TRACES}: the in-memory store is unbounded`);
  if (!(limit > 0)) problems.push(`memory limit ${memoryLimit}: not set`);
  if (problems.length) return problems;
  const need = traces * JAEGER_TRACE_BYTES + JAEGER_BASE_BYTES;
  const mib = (b) => `${Math.round(b / 2 ** 20)} MiB`;
  if (need > limit) {
    problems.push(`MEMORY_MAX_TRACES=${traces} needs about ${mib(need)} (16 KiB a trace + 64 MiB), over the memory limit ${memoryLimit}`);
  }
  if (env.GOMEMLIMIT && !(bytes(env.GOMEMLIMIT) < limit)) problems.push(`GOMEMLIMIT=${env.GOMEMLIMIT} is not below the memory limit ${memoryLimit}`);
  return problems;
}

// ---------------------------------------------------------------- collector

// Component types of the OpenTelemetry collector (contrib distribution), as a
// configuration names them before any `/name`. A type not listed fails: add it
// here when the configuration starts using one the distribution has.
export const COLLECTOR_COMPONENTS = {
  receivers: ['otlp', 'jaeger', 'zipkin', 'prometheus', 'hostmetrics', 'filelog', 'kafka', 'opencensus', 'k8s_cluster',
    'k8s_events', 'kubeletstats', 'journald', 'syslog', 'statsd', 'redis', 'postgresql', 'httpcheck', 'nop'],
  processors: ['batch', 'memory_limiter', 'attributes', 'resource', 'resourcedetection', 'filter', 'probabilistic_sampler',
    'tail_sampling', 'span', 'transform', 'k8sattributes', 'groupbytrace', 'groupbyattrs', 'redaction',
    'cumulativetodelta', 'deltatorate', 'metricstransform', 'routing'],
  exporters: ['otlp', 'otlphttp', 'debug', 'file', 'prometheus', 'prometheusremotewrite', 'kafka', 'zipkin',
    'loadbalancing', 'nop'],
  extensions: ['health_check', 'pprof', 'zpages', 'basicauth', 'bearertokenauth', 'oauth2client', 'headers_setter',
    'file_storage'],
  connectors: ['forward', 'spanmetrics', 'count', 'servicegraph', 'routing', 'roundrobin'],
};
const SIGNALS = ['traces', 'metrics', 'logs'];

export function collectorProblems(cfg) {
  const problems = [];
  if (!cfg || typeof cfg !== 'object') return ['not a YAML mapping'];
  for (const key of Object.keys(cfg)) {
    if (!(key in COLLECTOR_COMPONENTS) && key !== 'service') problems.push(`unknown top-level section ${key}`);
  }
  for (const [kind, known] of Object.entries(COLLECTOR_COMPONENTS)) {
    for (const id of Object.keys(cfg[kind] ?? {})) {
      const type = id.split('/')[0];
      if (!known.includes(type)) problems.push(`unknown ${kind.replace(/s$/, '')} type ${type} (${kind}.${id})`);
    }
  }
  const defined = (kind, id) => Object.hasOwn(cfg[kind] ?? {}, id);
  for (const id of cfg.service?.extensions ?? []) {
    if (!defined('extensions', id)) problems.push(`service.extensions: ${id} is not defined under extensions`);
  }
  const pipelines = cfg.service?.pipelines ?? {};
  if (Object.keys(pipelines).length === 0) problems.push('no pipeline in service.pipelines');
  for (const [name, p] of Object.entries(pipelines)) {
    if (!SIGNALS.includes(name.split('/')[0])) problems.push(`pipeline ${name}: unknown signal ${name.split('/')[0]}`);
    for (const kind of ['receivers', 'processors', 'exporters']) {
      for (const id of p?.[kind] ?? []) {
        if (!defined(kind, id) && !defined('connectors', id)) problems.push(`pipeline ${name}: ${kind.replace(/s$/, '')} ${id} is not defined`);
      }
    }
    if (!(p?.receivers ?? []).length) problems.push(`pipeline ${name}: no receiver`);
    if (!(p?.exporters ?? []).length) problems.push(`pipeline ${name}: no exporter`);
    const procs = p?.processors ?? [];
    if (procs.some((id) => id.split('/')[0] === 'memory_limiter') && procs[0].split('/')[0] !== 'memory_limiter') {
      problems.push(`pipeline ${name}: memory_limiter must be the first processor`);
    }
  }
  return problems;
}

// The ports the collector's OTLP receiver listens on: {http, grpc}.
export function collectorOtlpPorts(cfg) {
  const out = {};
  for (const [id, r] of Object.entries(cfg?.receivers ?? {})) {
    if (id.split('/')[0] !== 'otlp') continue;
    for (const proto of ['http', 'grpc']) {
      if (!r?.protocols || !(proto in r.protocols)) continue;
      const ep = r.protocols[proto]?.endpoint ?? '';
      out[proto] = Number(ep.split(':').at(-1)) || (proto === 'http' ? 4318 : 4317);
    }
  }
  return out;
}

// host:port (or URL) of every exporter endpoint: [{id, host, port}].
export function collectorTargets(cfg) {
  const out = [];
  for (const [id, e] of Object.entries(cfg?.exporters ?? {})) {
    const ep = e?.endpoint;
    if (typeof ep !== 'string') continue;
    const u = /^[a-z]+:\/\//.test(ep) ? new URL(ep) : new URL(`tcp://${ep}`);
    const port = Number(u.port || (u.protocol === 'https:' ? 443 : 80));
    out.push({ id, host: u.hostname, port });
  }
  return out;
}
