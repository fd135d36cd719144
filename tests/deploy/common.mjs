// common.mjs - what every part of the deployment check shares: the repository
// under test, reporting, YAML reading, and the C sources' route tables and
// variables (sources.mjs).
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { readSources, routeMatches } from './sources.mjs';

// The run in progress (begin() starts one): the repository, what its sources
// say, the tally, and where the report lines go.
export const ctx = { repo: null, sources: null, results: null, log: console.log };
export const SERVICES = { auth: 8082, product: 8000, recommendation: 8080, frontend: 3000 };

// Parsed sources by their content: the copies a mutation test makes share them.
const sourceCache = new Map();

function sourcesOf(repo) {
  const hash = crypto.createHash('sha256');
  for (const dir of ['lib/craft', 'tools', ...listDirs(path.join(repo, 'services')).map((d) => `services/${d}`)]) {
    for (const f of listFiles(path.join(repo, dir)).filter((x) => x.endsWith('.c'))) {
      hash.update(`${dir}/${f}\0`).update(fs.readFileSync(path.join(repo, dir, f))).update('\0');
    }
  }
  const key = hash.digest('hex');
  if (!sourceCache.has(key)) sourceCache.set(key, readSources(repo));
  return sourceCache.get(key);
}

const listFiles = (d) => (fs.existsSync(d) ? fs.readdirSync(d) : []);
const listDirs = (d) => listFiles(d).filter((x) => fs.statSync(path.join(d, x)).isDirectory());

export function begin(repo, log = console.log) {
  ctx.repo = path.resolve(repo);
  ctx.sources = sourcesOf(ctx.repo);
  ctx.results = { passed: 0, failed: 0 };
  ctx.log = log;
}

// check NAME FN: FN returns (or resolves to) a list of problems; none = passed.
export async function check(name, fn) {
  let problems;
  try {
    problems = await fn();
  } catch (err) {
    problems = [`threw: ${err.stack || err}`];
  }
  if (problems.length === 0) {
    ctx.results.passed++;
    ctx.log(`ok - ${name}`);
    return;
  }
  ctx.results.failed++;
  ctx.log(`not ok - ${name}`);
  for (const p of problems) ctx.log(`    ${p}`);
}

export function read(rel) {
  return fs.readFileSync(path.join(ctx.repo, rel), 'utf8');
}

// YAML as its reader takes it: kubectl YAML 1.1 (0440 is octal), compose YAML 1.2
// with merge keys.
export function parseAll(text, version = '1.1') {
  return YAML.parseAllDocuments(text, { version, merge: true })
    .map((d) => {
      if (d.errors.length) throw new Error(d.errors.map((e) => e.message).join('; '));
      return d.toJS({ maxAliasCount: 100 });
    })
    .filter((d) => d !== null && d !== undefined);
}

// The program an image runs: a service or tool of this repository (its
// variables and routes), or null for a third-party image.
export function programOf(name) {
  return ctx.sources.services[name] ?? ctx.sources.tools[name] ?? null;
}

// The route of `service` that answers GET `urlPath`, if any.
export function routeFor(service, urlPath, method = 'GET') {
  return ctx.sources.services[service]?.routes.find((r) => r.method === method && routeMatches(r.pattern, urlPath));
}
