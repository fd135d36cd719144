// Readiness follows the schema: a service whose database has not had the migration it
// needs applied answers /health with 503, "database": "down" and the reason, and becomes
// ready once craft-migrate has run. Recommendation needs migration 003, so a database
// with 001 and 002 only is still not ready. A replica of its own runs against a database
// of its own, created and dropped here.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFile } from 'node:child_process';
import { mkdtempSync, copyFileSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { getJson, waitFor, freePort, binaryPath, databaseUrl, sql, repoRoot } from './lib/stack.js';

const dbName = `craft_ready_${process.pid}`;
const url = new URL(databaseUrl);
url.pathname = `/${dbName}`;
const migrateBin = path.join(path.dirname(path.dirname(path.dirname(binaryPath('auth')))), 'tools', 'craft-migrate');
const migrations = path.join(repoRoot, 'db', 'migrations');

function migrate(dir) {
  return new Promise((resolve, reject) => {
    execFile(migrateBin, [dir], { env: { ...process.env, DATABASE_URL: url.href, MIGRATE_WAIT_S: '10' }, timeout: 60_000 },
      (err, stdout, stderr) => (err ? reject(new Error(`craft-migrate failed: ${stderr || err.message}`)) : resolve()));
  });
}

describe('readiness follows the applied migrations', () => {
  let child;
  let base;
  let partial;

  before(async () => {
    await sql(`DROP DATABASE IF EXISTS ${dbName}`);
    await sql(`CREATE DATABASE ${dbName}`);
    partial = mkdtempSync(path.join(os.tmpdir(), 'craft-migrations-'));
    for (const f of readdirSync(migrations).filter((n) => /^00[12]_.*\.sql$/.test(n)))
      copyFileSync(path.join(migrations, f), path.join(partial, f));
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    child = spawn(binaryPath('recommendation'), [], {
      env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'error', DATABASE_URL: url.href },
      stdio: 'ignore',
    });
    await waitFor(`${base}/health`, { status: 503, timeoutMs: 20_000 });
  });

  after(async () => {
    if (child && child.exitCode === null) {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    }
    if (partial) rmSync(partial, { recursive: true, force: true });
    await sql(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
  });

  test('no migration applied: not ready, and says so', async () => {
    const res = await getJson(`${base}/health`);
    assert.equal(res.status, 503, res.text);
    assert.equal(res.body.status, 'unhealthy');
    assert.equal(res.body.checks.database, 'down');
    assert.match(res.body.reasons.database, /no migration applied/);
  });

  test('older schema than the service needs: not ready, naming both versions', async () => {
    await migrate(partial);
    const res = await getJson(`${base}/health`);
    assert.equal(res.status, 503, res.text);
    assert.equal(res.body.checks.database, 'down');
    assert.match(res.body.reasons.database, /schema at migration 002, needs 003/);
  });

  test('after migrating: ready', async () => {
    await migrate(migrations);
    const res = await getJson(`${base}/health`);
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.status, 'healthy');
    assert.equal(res.body.checks.database, 'up');
    assert.equal(res.body.reasons, undefined);
  });
});
