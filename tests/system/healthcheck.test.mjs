// craft-healthcheck, the probe inside every image (which holds no shell): exit 0 only
// for a 200 from the service on $PORT, 1 with a reason otherwise; and --pause, the
// wait of the Kubernetes preStop hook.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { urls, toolPath, freePort } from './lib/stack.js';

const probe = (args, env) => spawnSync(toolPath('healthcheck'), args, { env: { PATH: process.env.PATH, ...env }, encoding: 'utf8' });
const portOf = (url) => new URL(url).port;

describe('craft-healthcheck', () => {
  test('0 for a 200 from the service on $PORT, /health by default', () => {
    const r = probe([], { PORT: portOf(urls.product) });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(probe(['/'], { PORT: portOf(urls.frontend) }).status, 0);
  });

  test('1 with the reason for any other answer, no answer, or bad usage', async () => {
    const notFound = probe(['/no-such-page'], { PORT: portOf(urls.product) });
    assert.equal(notFound.status, 1);
    assert.match(notFound.stderr, /answered 404/);
    const closed = probe([], { PORT: String(await freePort()) });
    assert.equal(closed.status, 1);
    assert.match(closed.stderr, /craft-healthcheck: http:\/\/127\.0\.0\.1:\d+\/health: /);
    assert.match(probe([], {}).stderr, /PORT must be set/);
    for (const args of [['health'], ['/a b'], ['/x', '/y']]) {
      const r = probe(args, { PORT: portOf(urls.product) });
      assert.equal(r.status, 1, args.join(' '));
      assert.match(r.stderr, /usage/);
    }
  });

  test('--pause waits the seconds given, then exits 0; anything else than 1..60 is refused', async () => {
    const started = process.hrtime.bigint();
    const child = spawn(toolPath('healthcheck'), ['--pause', '1'], { stdio: 'ignore' });
    const code = await new Promise((resolve) => child.on('exit', resolve));
    assert.equal(code, 0);
    // a lower bound only: the wait is at least what was asked
    assert.ok(process.hrtime.bigint() - started >= 1_000_000_000n, 'returned before its second');
    for (const bad of ['0', '61', 'x', '1.5', '-1', '']) {
      const r = probe(['--pause', bad], {});
      assert.equal(r.status, 1, bad);
      assert.match(r.stderr, /--pause takes whole seconds from 1 to 60/);
    }
  });
});
