// Mixed load from distinct users through the balancer: page views, catalogue and
// vote-count reads, votes and withdrawals, logins. Every request is recorded (kind,
// start, end, status); every vote or withdrawal with its user, origami, wanted state
// and the count it acknowledged; every read with the counts it saw.
//
// Each origami has exactly one writer loop, so the votes on one origami form a
// sequence and the count after each acknowledged one is known exactly: the audit
// can tell whether any read returned a count older than a vote acknowledged
// before that read started.
import { sleep } from './procs.mjs';

const TIMEOUT_MS = 10_000;

/** One request through the balancer; never throws. */
async function call(shop, path, { method = 'GET', user, json, accept = 'application/json', record }) {
  const headers = { accept };
  if (user) {
    headers['x-forwarded-for'] = user.address;
    if (user.cookie) headers.cookie = user.cookie;
  }
  let body;
  if (json !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(json);
  }
  const entry = { kind: record, start: Date.now(), end: 0, status: 0, retryAfter: false, error: null };
  let res = null, text = '';
  try {
    res = await fetch(`${shop}${path}`, { method, headers, body, redirect: 'manual', signal: AbortSignal.timeout(TIMEOUT_MS) });
    text = await res.text();
    entry.status = res.status;
    entry.retryAfter = res.headers.has('retry-after');
    if (res.status !== 200) entry.body = text.slice(0, 160);
  } catch (err) {
    entry.error = err.cause?.code ?? err.name ?? 'error';
  }
  entry.end = Date.now();
  return { entry, res, text };
}

const parse = (text) => {
  try { return JSON.parse(text); } catch { return null; }
};

export class Load {
  constructor(shop, users, origamiIds, { writers = 8, readers = 12 } = {}) {
    Object.assign(this, { shop, users, origamiIds, writers, readers });
    this.requests = []; // every request's entry
    this.ops = new Map(); // origami id -> [vote ops in order]
    this.reads = []; // {start, end, counts: Map(id -> count)}
    this.state = new Map(); // `${user}|${id}` -> true/false (acknowledged) or null (unknown)
    this.stopped = false;
    this.paused = null; // a promise the loops wait on while the load is paused
  }

  /** Holds every loop between two requests (for a quiet measurement); resume() ends it. */
  async pause(quietMs) {
    let resume;
    this.paused = new Promise((r) => { resume = r; });
    this.resume = () => { this.paused = null; resume(); };
    await new Promise((r) => setTimeout(r, quietMs));
  }

  async gate() {
    if (this.paused) await this.paused;
  }

  async login(user) {
    const { entry, res } = await call(this.shop, '/auth/login', {
      method: 'POST', user, json: { username: user.username, password: user.password }, record: 'login',
    });
    this.requests.push(entry);
    if (entry.status === 200) {
      const jwt = res.headers.getSetCookie().find((c) => c.startsWith('jwt_token='));
      if (jwt) user.cookie = `${jwt.split(';')[0]}; username=${user.username}`;
    }
    return entry.status;
  }

  /** One vote or withdrawal by `user` on origami `id`, recorded as an op. */
  async vote(user, id) {
    const key = `${user.username}|${id}`;
    const known = this.state.get(key);
    const add = known === undefined || known === null ? true : !known;
    const { entry, text } = await call(this.shop, `/api/origamis/${id}/vote`, {
      method: add ? 'POST' : 'DELETE', user, record: add ? 'vote' : 'withdraw',
    });
    this.requests.push(entry);
    const body = entry.status === 200 ? parse(text) : null;
    const acked = body !== null && Number.isInteger(body.new_vote_count);
    const op = { user: user.username, id, add, start: entry.start, end: entry.end, acked, count: acked ? body.new_vote_count : null };
    this.ops.get(id).push(op);
    this.state.set(key, acked ? add : null);
  }

  async writer(owned) {
    let i = 0;
    while (!this.stopped) {
      const id = owned[i++ % owned.length];
      const user = this.users[Math.floor(Math.random() * this.users.length)];
      await this.vote(user, id);
      await sleep(5 + Math.random() * 20);
      await this.gate();
    }
  }

  async read() {
    const r = Math.random();
    const user = this.users[Math.floor(Math.random() * this.users.length)];
    if (r < 0.35) {
      const { entry } = await call(this.shop, '/', { user: Math.random() < 0.5 ? user : undefined, accept: 'text/html', record: 'page' });
      this.requests.push(entry);
    } else if (r < 0.65) {
      const { entry, text } = await call(this.shop, '/api/products', { record: 'catalogue' });
      this.requests.push(entry);
      const list = entry.status === 200 ? parse(text) : null;
      if (Array.isArray(list)) this.reads.push({ start: entry.start, end: entry.end, counts: new Map(list.map((p) => [p.id, p.votes])) });
    } else if (r < 0.9) {
      const id = this.origamiIds[Math.floor(Math.random() * this.origamiIds.length)];
      const { entry, text } = await call(this.shop, `/api/origamis/${id}/votes`, { user, record: 'votes' });
      this.requests.push(entry);
      const body = entry.status === 200 ? parse(text) : null;
      if (body && Number.isInteger(body.votes)) this.reads.push({ start: entry.start, end: entry.end, counts: new Map([[id, body.votes]]) });
    } else {
      const { entry } = await call(this.shop, '/daily-origami', { record: 'daily' });
      this.requests.push(entry);
    }
  }

  async reader() {
    while (!this.stopped) {
      await this.read();
      await sleep(5 + Math.random() * 20);
      await this.gate();
    }
  }

  async loginLoop() {
    while (!this.stopped) {
      await this.login(this.users[Math.floor(Math.random() * this.users.length)]);
      await sleep(150 + Math.random() * 100);
      await this.gate();
    }
  }

  /** Starts every loop; resolves when stop() was called and all have finished. */
  run() {
    for (const id of this.origamiIds) this.ops.set(id, []);
    const loops = [];
    for (let w = 0; w < this.writers; w++) {
      const owned = this.origamiIds.filter((_, i) => i % this.writers === w);
      if (owned.length > 0) loops.push(this.writer(owned));
    }
    for (let r = 0; r < this.readers; r++) loops.push(this.reader());
    loops.push(this.loginLoop());
    this.done = Promise.all(loops);
    return this.done;
  }

  async stop() {
    this.stopped = true;
    await this.done;
  }
}
