// Every service's /metrics, read by an independent Prometheus text-format
// parser: well formed, and holding the families dashboards look for.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import { urls } from './lib/stack.js';

const PROCESS = ['process_resident_memory_bytes', 'process_cpu_seconds_total', 'process_open_fds',
  'process_start_time_seconds', 'process_max_fds'];
const HTTP = ['craft_http_requests_total', 'craft_http_request_duration_seconds', 'craft_uptime_seconds'];
const PG = ['craft_pg_pool_size', 'craft_pg_pool_in_use', 'craft_pg_pool_waiting', 'craft_pg_acquire_timeouts_total'];
const REDIS = ['craft_redis_up', 'craft_redis_pool_size', 'craft_redis_pool_in_use', 'craft_redis_commands_total',
  'craft_redis_timeouts_total', 'craft_redis_acquire_timeouts_total'];
const OUTBOUND = ['craft_http_client_requests_total', 'craft_http_client_failures_total', 'craft_http_client_timeouts_total',
  'craft_http_client_in_use'];

const expected = {
  auth: [...PROCESS, ...HTTP, ...PG, ...REDIS, 'craft_auth_bcrypt_pending', 'craft_auth_bcrypt_rejected_total'],
  product: [...PROCESS, ...HTTP, ...PG, ...REDIS, ...OUTBOUND, 'craft_product_cache_hits_total', 'craft_product_cache_misses_total'],
  recommendation: [...PROCESS, ...HTTP, ...PG],
  frontend: [...PROCESS, ...HTTP, ...OUTBOUND, 'craft_frontend_page_cache_hits_total', 'craft_frontend_page_cache_misses_total'],
};

describe('/metrics', () => {
  for (const [svc, names] of Object.entries(expected)) {
    test(`${svc}: parses as Prometheus text and has the families dashboards need`, async () => {
      await (await fetch(`${urls[svc]}/`)).arrayBuffer(); // at least one request counted
      const res = await fetch(`${urls[svc]}/metrics`);
      assert.equal(res.status, 200);
      assert.match(res.headers.get('content-type'), /^text\/plain; version=0\.0\.4/);
      const families = parsePrometheusTextFormat(await res.text());
      const byName = new Map(families.map((f) => [f.name, f]));
      const missing = names.filter((n) => !byName.has(n));
      assert.deepEqual(missing, [], `${svc} lacks ${missing.join(', ')}`);
      for (const f of families) {
        assert.match(f.name, /^[a-zA-Z_:][a-zA-Z0-9_:]*$/);
        assert.ok(['COUNTER', 'GAUGE', 'HISTOGRAM', 'SUMMARY', 'UNTYPED'].includes(f.type), `${f.name}: ${f.type}`);
        if (f.type === 'COUNTER') assert.match(f.name, /_total$/, `${f.name}: a counter ends in _total`);
        for (const m of f.metrics) {
          if (f.type !== 'HISTOGRAM') {
            assert.ok(Number.isFinite(Number(m.value)), `${f.name}: ${m.value}`);
            continue;
          }
          // cumulative buckets ending in +Inf
          assert.ok('+Inf' in m.buckets, `${f.name}: no +Inf bucket`);
          const counts = Object.entries(m.buckets)
            .map(([le, n]) => [le === '+Inf' ? Infinity : Number(le), Number(n)])
            .sort((a, b) => a[0] - b[0])
            .map(([, n]) => n);
          for (let i = 1; i < counts.length; i++) assert.ok(counts[i] >= counts[i - 1], `${f.name}: buckets not cumulative`);
        }
      }
      assert.ok(Number(byName.get('process_resident_memory_bytes').metrics[0].value) > 1e6);
      assert.ok(Number(byName.get('process_open_fds').metrics[0].value) > 2);
    });
  }
});
