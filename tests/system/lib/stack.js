// Helpers for the system tests: where the services are, control of the stack that
// scripts/test.sh started, and small HTTP helpers on top of the global fetch.
//
// scripts/test.sh exports the environment read here; run by hand against `make run`,
// the defaults point at the development stack's ports.

import { execFile, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

const env = process.env;

/** Base URLs of the four services, without a trailing slash. */
export const urls = Object.freeze({
	auth: env.AUTH_URL ?? `http://127.0.0.1:${env.AUTH_PORT ?? 8082}`,
	recommendation: env.RECOMMENDATION_URL ?? `http://127.0.0.1:${env.RECOMMENDATION_PORT ?? 8080}`,
	product: env.PRODUCT_URL ?? `http://127.0.0.1:${env.PRODUCT_PORT ?? 8000}`,
	frontend: env.FRONTEND_URL ?? `http://127.0.0.1:${env.FRONTEND_PORT ?? 3000}`,
});

/** Connection URI of the stack's PostgreSQL database. */
export const databaseUrl =
	env.CRAFT_TEST_DATABASE_URL ??
	`postgresql://postgres:postgres@127.0.0.1:${env.POSTGRES_PORT ?? 5432}/craftista`;

/** The shared secret of auth's internal endpoints, as the services were given it. */
export const internalApiKey = env.INTERNAL_API_KEY ?? '';

/** The stack's state folder (pid files, logs under log/<name>.log). */
export const varDir = path.resolve(repoRoot, env.CRAFT_VAR_DIR ?? env.VAR_DIR ?? 'var/dev');

/** Path of the log of `name` (a service, or postgres, redis, migrate). */
export function logPath(name) {
	return path.join(varDir, 'log', `${name}.log`);
}

const stackScript = env.CRAFT_STACK ?? path.join(repoRoot, 'scripts/stack.sh');
const buildDir = env.BUILD_DIR ? path.resolve(repoRoot, env.BUILD_DIR) : path.join(repoRoot, 'build');

/** The path of a service's binary in the build tree. */
export function binaryPath(name) {
	return path.join(buildDir, 'services', name, `craft-${name}`);
}

/** The path of a tool's binary in the build tree (craft-healthcheck, craft-migrate). */
export function toolPath(name) {
	return path.join(buildDir, 'tools', `craft-${name}`);
}

/** True when the binary of service `name` is built (test.sh starts only those). */
export function built(name) {
	return existsSync(path.join(buildDir, 'services', name, `craft-${name}`));
}

/**
 * Runs `scripts/stack.sh cmd ...args` synchronously with this process's environment
 * (so the same VAR_DIR and ports), e.g. stack('svc-stop', 'auth'), stack('pg-start').
 * A last argument {env: {...}} adds or overrides variables for that call, e.g.
 * stack('svc-start', 'product', {env: {OTEL_EXPORTER_OTLP_ENDPOINT: url}}).
 * Returns {status, stdout, stderr}; throws when the command fails.
 */
export function stack(cmd, ...args) {
	let extraEnv = {};
	const last = args.at(-1);
	if (last !== null && typeof last === 'object') {
		extraEnv = last.env ?? {};
		args = args.slice(0, -1);
	}
	const res = spawnSync(stackScript, [cmd, ...args], {
		env: { ...env, ...extraEnv },
		encoding: 'utf8',
		timeout: 180_000,
	});
	if (res.error) throw res.error;
	if (res.status !== 0) {
		const err = new Error(
			`stack.sh ${[cmd, ...args].join(' ')} exited ${res.status ?? res.signal}\n${res.stdout}${res.stderr}`,
		);
		err.result = res;
		throw err;
	}
	return { status: res.status, stdout: res.stdout, stderr: res.stderr };
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function statusMatches(want, got) {
	if (typeof want === 'function') return want(got);
	if (Array.isArray(want)) return want.includes(got);
	return want === got;
}

/**
 * Polls GET `url` until its status matches `status` (a number, an array of numbers or a
 * predicate; default 200) and returns that Response. Connection errors count as "not yet".
 * Throws after `timeoutMs` (default 15 s) with the last status or error seen.
 */
export async function waitFor(url, { status = 200, timeoutMs = 15_000, intervalMs = 100, init = {} } = {}) {
	const deadline = Date.now() + timeoutMs;
	let last = 'no answer';
	for (;;) {
		try {
			const res = await fetch(url, { ...init, signal: AbortSignal.timeout(Math.max(intervalMs, 2_000)) });
			if (statusMatches(status, res.status)) return res;
			last = `status ${res.status}`;
			await res.arrayBuffer();
		} catch (err) {
			last = err.cause?.code ?? err.message;
		}
		if (Date.now() >= deadline) {
			throw new Error(`waitFor ${url}: no matching status within ${timeoutMs} ms (last: ${last})`);
		}
		await sleep(intervalMs);
	}
}

/**
 * fetch(url, opts) that reads the whole answer: {status, headers, body, text}, where body
 * is the parsed JSON (null when the answer is not JSON). Extra options: `json` (a value
 * sent as a JSON body with Content-Type application/json), `token` (a Bearer token),
 * `timeoutMs` (default 10 s). Redirects are not followed unless opts.redirect says so.
 */
export async function getJson(url, opts = {}) {
	const { json, token, timeoutMs = 10_000, headers: given, ...init } = opts;
	const headers = new Headers(given ?? {});
	if (json !== undefined) {
		init.body = JSON.stringify(json);
		if (!headers.has('content-type')) headers.set('content-type', 'application/json');
		init.method ??= 'POST';
	}
	if (token) headers.set('authorization', `Bearer ${token}`);
	const res = await fetch(url, {
		redirect: 'manual',
		...init,
		headers,
		signal: init.signal ?? AbortSignal.timeout(timeoutMs),
	});
	const text = await res.text();
	let body = null;
	try {
		body = text.length > 0 ? JSON.parse(text) : null;
	} catch {
		body = null;
	}
	return { status: res.status, headers: res.headers, body, text };
}

/** A TCP port that is free on 127.0.0.1 right now (for test servers of a test's own). */
export function freePort() {
	return new Promise((resolve, reject) => {
		const srv = net.createServer();
		srv.unref();
		srv.on('error', reject);
		srv.listen(0, '127.0.0.1', () => {
			const { port } = srv.address();
			srv.close(() => resolve(port));
		});
	});
}

const psqlBin = ['/usr/bin/psql', '/usr/lib/postgresql/15/bin/psql'].find((p) => existsSync(p)) ?? 'psql';

/**
 * Runs one SQL statement on the stack's database (with psql) and resolves to its rows as
 * objects with JSON-typed values: SELECT / WITH / VALUES / TABLE statements and statements
 * with RETURNING give their rows, anything else resolves to []. Rejects with psql's message
 * on error. Values are interpolated by the caller: use it only with trusted test input.
 */
export function sql(text, { timeoutMs = 30_000 } = {}) {
	const stmt = text.trim().replace(/;+\s*$/, '');
	let query = stmt;
	if (/^(select|with|values|table)\b/i.test(stmt)) {
		query = `SELECT coalesce(json_agg(row_to_json(q)), '[]'::json) FROM (${stmt}) q`;
	} else if (/\breturning\b/i.test(stmt)) {
		query = `WITH q AS (${stmt}) SELECT coalesce(json_agg(row_to_json(q)), '[]'::json) FROM q`;
	}
	const args = ['-X', '-q', '-A', '-t', '-v', 'ON_ERROR_STOP=1', '-d', databaseUrl, '-c', query];
	return new Promise((resolve, reject) => {
		execFile(psqlBin, args, { timeout: timeoutMs, env: { ...env, PGCONNECT_TIMEOUT: '5' } }, (err, stdout, stderr) => {
			if (err) {
				reject(new Error(`sql failed: ${stmt}\n${stderr || err.message}`));
				return;
			}
			const out = stdout.trim();
			resolve(query === stmt || out === '' ? [] : JSON.parse(out));
		});
	});
}
