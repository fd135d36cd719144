// sources.mjs - what the C sources say the deployment must agree with: each
// program's route table and the environment variables it reads.
//
// Routes: every `struct craft_route NAME[] = {...}` array of services/<name>/ (the
// service's own) and of lib/craft/ (common to every service), as {method,
// pattern, handler}.
//
// Variables: the `.name = "..."` of every `struct craft_config_field` array a
// program can reach, every getenv("...") in a function it can reach, and the
// string given to a function that passes its parameter to getenv (e.g.
// env_or("POSTGRES_HOST", ...)). Reachable: the functions of the program's own
// files, then every lib/craft function they name, transitively. A program is a
// service (services/<name>/*.c) or a tool (tools/<name>.c).
import fs from 'node:fs';
import path from 'node:path';

// ---------------------------------------------------------------- C text

// The code with comments blanked (strings and characters kept), so that
// braces and names inside comments count for nothing.
export function stripComments(text) {
  let out = '';
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    const n = text[i + 1];
    if (c === '/' && n === '*') {
      const end = text.indexOf('*/', i + 2);
      const stop = end < 0 ? text.length : end + 2;
      out += text.slice(i, stop).replace(/[^\n]/g, ' ');
      i = stop;
    } else if (c === '/' && n === '/') {
      const end = text.indexOf('\n', i);
      const stop = end < 0 ? text.length : end;
      out += ' '.repeat(stop - i);
      i = stop;
    } else if (c === '"' || c === "'") {
      let j = i + 1;
      while (j < text.length && text[j] !== c) j += text[j] === '\\' ? 2 : 1;
      out += text.slice(i, j + 1);
      i = j + 1;
    } else {
      out += c;
      i++;
    }
  }
  return out;
}

// Index of the brace that closes the one at `open` (strings skipped).
function closingBrace(code, open) {
  let depth = 0;
  for (let i = open; i < code.length; i++) {
    const c = code[i];
    if (c === '"' || c === "'") {
      i++;
      while (i < code.length && code[i] !== c) i += code[i] === '\\' ? 2 : 1;
    } else if (c === '{') depth++;
    else if (c === '}' && --depth === 0) return i;
  }
  return code.length;
}

// Top-level `{...}` blocks: functions ({name, params, body}) and initialised
// arrays ({array, type, body}).
function topLevelBlocks(code) {
  const functions = [];
  const arrays = [];
  let start = 0;
  for (let i = 0; i < code.length; i++) {
    const c = code[i];
    if (c === '"' || c === "'") {
      i++;
      while (i < code.length && code[i] !== c) i += code[i] === '\\' ? 2 : 1;
      continue;
    }
    if (c === ';') start = i + 1;
    if (c !== '{') continue;
    const head = code.slice(start, i);
    const end = closingBrace(code, i);
    const body = code.slice(i + 1, end);
    const arr = head.match(/struct\s+(\w+)\s+(\w+)\s*\[[^\]]*\]\s*=\s*$/);
    const fn = head.match(/\b(\w+)\s*\(([^()]*(?:\([^()]*\)[^()]*)*)\)\s*$/);
    if (arr) arrays.push({ type: arr[1], array: arr[2], body });
    else if (fn && !/=\s*$/.test(head)) {
      const params = fn[2].split(',').map((p) => p.trim().match(/(\w+)\s*(?:\[[^\]]*\])?$/)?.[1]).filter(Boolean);
      functions.push({ name: fn[1], params, body });
      arrays.push(...localRouteArrays(body));
    }
    i = end;
    start = end + 1;
  }
  return { functions, arrays };
}

// Route tables built inside a function (the service core's common routes).
function localRouteArrays(body) {
  const out = [];
  for (const m of body.matchAll(/struct\s+craft_route\s+(\w+)\s*\[[^\]]*\]\s*=\s*\{/g)) {
    const open = m.index + m[0].length - 1;
    out.push({ type: 'craft_route', array: m[1], body: body.slice(open + 1, closingBrace(body, open)) });
  }
  return out;
}

// Arguments of a call, split at top-level commas.
function callArgs(text, open) {
  const args = [];
  let depth = 0;
  let cur = '';
  for (let i = open; i < text.length; i++) {
    const c = text[i];
    if (c === '(') {
      if (depth++ === 0) continue;
    } else if (c === ')') {
      if (--depth === 0) {
        args.push(cur.trim());
        return args;
      }
    } else if (c === ',' && depth === 1) {
      args.push(cur.trim());
      cur = '';
      continue;
    }
    cur += c;
  }
  return args;
}

function cFiles(dir) {
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.c'))
    .map((f) => path.join(dir, f));
}

function parseFile(file) {
  const code = stripComments(fs.readFileSync(file, 'utf8'));
  return { file, code, ...topLevelBlocks(code) };
}

// ---------------------------------------------------------------- routes

// The `{...}` initialisers of an array body (braces inside strings ignored).
function initialisers(body) {
  const out = [];
  for (let i = 0; i < body.length; i++) {
    if (body[i] === '"') {
      i++;
      while (i < body.length && body[i] !== '"') i += body[i] === '\\' ? 2 : 1;
    } else if (body[i] === '{') {
      const end = closingBrace(body, i);
      out.push(body.slice(i + 1, end));
      i = end;
    }
  }
  return out;
}

function routesOf(arrays) {
  const out = [];
  for (const a of arrays.filter((x) => x.type === 'craft_route')) {
    for (const entry of initialisers(a.body)) {
      const field = (name) => entry.match(new RegExp(`\\.${name}\\s*=\\s*(?:"([^"]*)"|(\\w+))`));
      // the core's home page: `.pattern = def->home_path ? def->home_path : "/"`
      const home = entry.match(/\.pattern\s*=\s*[^,]*\bhome_path\b[^,]*:\s*"([^"]*)"/);
      const pattern = home ? home[1] : field('pattern')?.[1];
      if (pattern === undefined) continue;
      out.push({ method: field('method')?.[1] ?? 'GET', pattern, handler: field('handler')?.[2] ?? '', home: Boolean(home) });
    }
  }
  return out;
}

// craft_router_match: {param} is one non-empty segment; a trailing slash is ignored.
export function routeMatches(pattern, urlPath) {
  const split = (p) => p.split('?')[0].replace(/\/+$/, '').split('/');
  const a = split(pattern);
  const b = split(urlPath);
  if (a.length !== b.length) return false;
  return a.every((seg, i) => (/^\{\w+\}$/.test(seg) ? b[i] !== '' : seg === b[i]));
}

// ---------------------------------------------------------------- variables

const NAME = /^[A-Z][A-Z0-9_]*$/;

// Which functions pass one of their parameters to getenv: name -> argument index.
function getenvWrappers(functions) {
  const out = new Map();
  for (const f of functions) {
    f.params.forEach((p, i) => {
      if (new RegExp(`\\bgetenv\\s*\\(\\s*${p}\\s*\\)`).test(f.body)) out.set(f.name, i);
    });
  }
  return out;
}

function variablesIn(body, wrappers) {
  const out = new Set();
  for (const m of body.matchAll(/\bgetenv\s*\(\s*"([^"]+)"\s*\)/g)) out.add(m[1]);
  for (const [name, index] of wrappers) {
    for (const m of body.matchAll(new RegExp(`\\b${name}\\s*\\(`, 'g'))) {
      const arg = callArgs(body, m.index + m[0].length - 1)[index]?.match(/^"([^"]+)"$/)?.[1];
      if (arg) out.add(arg);
    }
  }
  return [...out].filter((v) => NAME.test(v));
}

function fieldNames(array) {
  return [...array.body.matchAll(/\.name\s*=\s*"([^"]+)"/g)].map((m) => m[1]);
}

// A bound written as a number or a product of numbers (64L * 1024 * 1024).
function constant(text) {
  if (text === undefined) return undefined;
  const parts = text.split('*').map((p) => p.trim().replace(/[uUlL]+$/, ''));
  return parts.every((p) => /^-?\d+$/.test(p)) ? parts.reduce((a, p) => a * Number(p), 1) : undefined;
}

// {name: {type: 'STR'|'INT'|'BOOL', min, max}} of a craft_config_field array.
function fieldSpecs(array) {
  const out = {};
  for (const entry of initialisers(array.body)) {
    const get = (key) => entry.match(new RegExp(`\\.${key}\\s*=\\s*([^,}]+)`))?.[1]?.trim();
    const name = get('name')?.match(/^"([^"]+)"$/)?.[1];
    const type = get('type')?.match(/^CRAFT_CONFIG_(\w+)$/)?.[1];
    if (name && type) out[name] = { type, min: constant(get('min')) ?? 0, max: constant(get('max')) ?? (get('max') ? undefined : 0) };
  }
  return out;
}

// The variables one program reads: its own files, then what they reach in lib.
function programVariables(own, lib) {
  const libFns = new Map();
  for (const f of lib.flatMap((p) => p.functions)) libFns.set(f.name, [...(libFns.get(f.name) ?? []), f]);
  const fieldArrays = new Map();
  for (const a of [...own, ...lib].flatMap((p) => p.arrays).filter((x) => x.type === 'craft_config_field')) {
    fieldArrays.set(a.array, [...(fieldArrays.get(a.array) ?? []), a]);
  }
  const wrappers = getenvWrappers([...own, ...lib].flatMap((p) => p.functions));
  const ownArrays = own.flatMap((p) => p.arrays).filter((a) => a.type === 'craft_config_field');
  const vars = new Set(ownArrays.flatMap(fieldNames));
  const specs = Object.assign({}, ...ownArrays.map(fieldSpecs));
  const queue = own.flatMap((p) => p.functions);
  const seen = new Set(queue);
  while (queue.length) {
    const f = queue.shift();
    for (const v of variablesIn(f.body, wrappers)) vars.add(v);
    for (const id of new Set(f.body.match(/\b[A-Za-z_]\w*\b/g) ?? [])) {
      for (const a of fieldArrays.get(id) ?? []) {
        for (const v of fieldNames(a)) vars.add(v);
        Object.assign(specs, fieldSpecs(a));
      }
      for (const g of libFns.get(id) ?? []) {
        if (!seen.has(g)) {
          seen.add(g);
          queue.push(g);
        }
      }
    }
  }
  return { vars, specs };
}

// Problems of `value` for a variable declared as `spec` (config.h's rules:
// empty is unset for INT and BOOL; INT a whole number within [min, max]; BOOL
// true/false, 1/0, yes/no, on/off; STR min..max bytes, max 0 meaning 4096).
export function valueProblem(name, value, spec) {
  if (!spec || value === undefined) return null;
  const v = String(value);
  if (spec.type === 'INT' && v !== '') {
    if (!/^-?\d+$/.test(v)) return `${name}=${v} is not a whole number`;
    if (Number(v) < spec.min || (spec.max !== undefined && Number(v) > spec.max)) return `${name}=${v} is outside ${spec.min}..${spec.max}`;
  }
  if (spec.type === 'BOOL' && v !== '' && !/^(true|false|1|0|yes|no|on|off)$/i.test(v)) return `${name}=${v} is not a boolean`;
  if (spec.type === 'STR') {
    const max = spec.max || 4096;
    if (Buffer.byteLength(v) < spec.min || Buffer.byteLength(v) > max) return `${name} is ${Buffer.byteLength(v)} bytes, not ${spec.min}..${max}`;
  }
  return null;
}

// ---------------------------------------------------------------- entry

// { services: {name: {routes, vars, specs}}, tools: {name: {vars, specs}} }: vars the
// names a program reads, specs the declared type and bounds of its config fields.
export function readSources(repo) {
  const lib = cFiles(path.join(repo, 'lib/craft')).map(parseFile);
  const commonRoutes = routesOf(lib.flatMap((p) => p.arrays));
  const services = {};
  const servicesDir = path.join(repo, 'services');
  for (const name of fs.readdirSync(servicesDir).sort()) {
    const own = cFiles(path.join(servicesDir, name)).map(parseFile);
    if (own.length === 0) continue;
    // a service that moves the core's home page (`.home_path = "/about"`)
    const homePath = own.map((p) => p.code.match(/\.home_path\s*=\s*"([^"]*)"/)?.[1]).find(Boolean);
    // lib's routes are the core's own pages (home, health, metrics, its stylesheet)
    const common = commonRoutes.map((r) => ({ ...r, internal: true, pattern: r.home && homePath ? homePath : r.pattern }));
    services[name] = { routes: [...common, ...routesOf(own.flatMap((p) => p.arrays))], ...programVariables(own, lib) };
  }
  const tools = {};
  for (const file of cFiles(path.join(repo, 'tools'))) {
    const name = path.basename(file, '.c').replace(/^craft-/, '');
    tools[name] = programVariables([parseFile(file)], lib);
  }
  return { services, tools };
}
