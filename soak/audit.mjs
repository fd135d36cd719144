// The audit after the run: acknowledged votes against the database, counters against
// rows, reads against the votes acknowledged before them, errors against the fault
// windows, and the processes' footprints.

/** Whether an answer is one of the documented refusals (503 or 429 with Retry-After). */
export const documented = (e) => (e.status === 503 || e.status === 429) && e.retryAfter;
const failed = (e) => e.status !== 200;

/**
 * Stale reads. For origami `id`, ops are sequential (one writer). A read that
 * started after op k was acknowledged must show count_k, or the count of an op
 * that started before the read ended (it may have been applied meanwhile). When
 * the last op before the read was not acknowledged, its effect is unknown and the
 * read is not judged.
 */
export function staleReads(load) {
  const stale = [];
  let judged = 0;
  for (const read of load.reads) {
    for (const [id, count] of read.counts) {
      const ops = load.ops.get(id);
      if (!ops) continue;
      let k = -1; // the last op finished before the read started
      for (let i = ops.length - 1; i >= 0; i--) {
        if (ops[i].end < read.start) { k = i; break; }
      }
      if (k < 0 || !ops[k].acked) continue;
      const allowed = new Set([ops[k].count]);
      let unknown = false;
      for (let j = k + 1; j < ops.length && ops[j].start < read.end; j++) {
        if (ops[j].acked) allowed.add(ops[j].count);
        else unknown = true;
      }
      if (unknown) continue;
      judged++;
      if (!allowed.has(count)) stale.push({ id, count, expected: [...allowed], at: read.start, acked: ops[k].end });
    }
  }
  return { judged, stale };
}

/** Acknowledged final states against the rows of the votes table. */
export function lostVotes(load, rows) {
  const present = new Set(rows.map(([username, id]) => `${username}|${id}`));
  const lost = [], phantom = [];
  let checked = 0, acknowledged = 0;
  for (const ops of load.ops.values()) acknowledged += ops.filter((o) => o.acked).length;
  for (const [key, state] of load.state) {
    if (state === null) continue; // the last attempt was not acknowledged
    checked++;
    if (state && !present.has(key)) lost.push(key);
    if (!state && present.has(key)) phantom.push(key);
  }
  return { acknowledged, checked, lost, phantom };
}

/** Errors inside and outside the fault windows (each extended by `graceMs`). */
export function errorsByWindow(requests, faults, graceMs) {
  const outside = [], undocumented = [];
  for (const f of faults) Object.assign(f, { errors: 0, lastError: null, kinds: new Map(), samples: new Map() });
  for (const e of requests) {
    if (!failed(e)) continue;
    const f = faults.find((w) => e.start <= w.end + graceMs && e.end >= w.start);
    if (!f) outside.push(e);
    else {
      f.errors++;
      f.lastError = Math.max(f.lastError ?? 0, e.end);
      const what = `${e.kind} ${e.status || e.error}${e.retryAfter ? '+RA' : ''}`;
      f.kinds.set(what, (f.kinds.get(what) ?? 0) + 1);
      if (!f.samples.has(what)) f.samples.set(what, e.body ?? '');
    }
    if (!documented(e)) undocumented.push(e);
  }
  for (const f of faults) f.recoveryMs = f.lastError && f.lastError > f.end ? f.lastError - f.end : 0;
  return { outside, undocumented };
}

/** Per-second series: requests, errors and p99 latency. */
export function perSecond(requests, t0) {
  const buckets = new Map();
  for (const e of requests) {
    const s = Math.floor((e.end - t0) / 1000);
    if (!buckets.has(s)) buckets.set(s, { n: 0, errors: 0, ms: [] });
    const b = buckets.get(s);
    b.n++;
    if (failed(e)) b.errors++;
    b.ms.push(e.end - e.start);
  }
  return [...buckets.entries()].sort((a, b) => a[0] - b[0]).map(([s, b]) => {
    b.ms.sort((x, y) => x - y);
    return { s, n: b.n, errors: b.errors, p99: b.ms[Math.min(b.ms.length - 1, Math.floor(b.ms.length * 0.99))] };
  });
}

/** Per kind of request: count, errors, rate and latency percentiles. */
export function perKind(requests, seconds) {
  const kinds = new Map();
  for (const e of requests) {
    if (!kinds.has(e.kind)) kinds.set(e.kind, []);
    kinds.get(e.kind).push(e);
  }
  return [...kinds.entries()].sort().map(([kind, list]) => {
    const ms = list.map((e) => e.end - e.start).sort((a, b) => a - b);
    const q = (p) => ms[Math.min(ms.length - 1, Math.floor(ms.length * p))];
    return { kind, n: list.length, errors: list.filter(failed).length, rate: list.length / seconds, p50: q(0.5), p99: q(0.99) };
  });
}

/**
 * Growth of each process between two footprints. RSS and the descriptors that are
 * not sockets (files, pipes, epoll, eventfd: what a leak in C leaves) must grow by
 * less than 10 %. Sockets are connections: their number follows the pools and the
 * keep-alive peers of the moment, within configured bounds, so only a gross
 * growth (a leak per request would be thousands) fails. Under AddressSanitizer
 * RSS is not judged: freed memory waits in its quarantine (up to 256 MB).
 */
export const SOCKET_SLACK = 32;
export function growth(before, after, { judgeRss = true } = {}) {
  const rows = [];
  for (const [name, b] of before) {
    const a = after.get(name);
    if (!b || !a) continue;
    const other = (x) => x.fds - x.sockets;
    const rss = (a.rss - b.rss) / b.rss, fds = (a.fds - b.fds) / b.fds;
    const others = (other(a) - other(b)) / Math.max(1, other(b));
    const ok = (!judgeRss || rss < 0.1) && others < 0.1 && a.sockets <= b.sockets + SOCKET_SLACK;
    rows.push({ name, before: b, after: a, rss, fds, others, ok });
  }
  return rows;
}
