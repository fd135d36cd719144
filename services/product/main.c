/* main.c - product: read config, build dependencies, serve. */
#include "app.h"

#include "craft/common.h"
#include "craft/config.h"
#include "craft/log.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FIELD(member) offsetof(struct product_config, member)

static const struct craft_config_field product_fields[] = {
    {.name = "CACHE_TTL_SECONDS",
     .type = CRAFT_CONFIG_INT,
     .default_value = "300",
     .min = 1,
     .max = 86400,
     .offset = FIELD(cache_ttl_s),
     .help = "lifetime of a cached product"},
    {.name = "CACHE_REPAIR_INTERVAL_MS",
     .type = CRAFT_CONFIG_INT,
     .default_value = "1000",
     .min = 50,
     .max = 60000,
     .offset = FIELD(repair_interval_ms),
     .help = "how often pending cache repairs are looked for"},
    {.name = "DB_THREADS",
     .type = CRAFT_CONFIG_INT,
     .default_value = "0",
     .min = 0,
     .max = 256,
     .offset = FIELD(db_threads),
     .help = "threads for requests that wait on PostgreSQL; 0 = PG_POOL_SIZE"},
    {.name = "DB_QUEUE",
     .type = CRAFT_CONFIG_INT,
     .default_value = "4096",
     .min = 1,
     .max = 100000,
     .offset = FIELD(db_queue),
     .help = "requests waiting for those threads before 503"},
};

static const struct craft_metric_desc cache_metrics[] = {
    {"craft_product_cache_hits_total", "Products served from Redis", CRAFT_METRIC_COUNTER},
    {"craft_product_cache_misses_total", "Product reads that missed Redis", CRAFT_METRIC_COUNTER},
    {"craft_product_cache_bypassed_total",
     "Product reads sent to PostgreSQL while the cache was untrusted", CRAFT_METRIC_COUNTER},
    {"craft_product_cache_write_failures_total",
     "Committed changes whose cache entry had to be repaired", CRAFT_METRIC_COUNTER},
    {"craft_product_cache_repaired_total", "Cache entries rewritten by the repair pass",
     CRAFT_METRIC_COUNTER},
    {"craft_product_list_cache_hits_total", "Catalogue lists served from Redis",
     CRAFT_METRIC_COUNTER},
    {"craft_product_list_cache_misses_total",
     "Catalogue list reads that found no valid list in Redis", CRAFT_METRIC_COUNTER},
    {"craft_product_list_reads_total", "Catalogue lists read from PostgreSQL",
     CRAFT_METRIC_COUNTER},
    {"craft_product_list_shared_total",
     "Catalogue list requests answered by another request's read", CRAFT_METRIC_COUNTER},
    {"craft_product_cache_trusted", "1 while this replica reads from the cache",
     CRAFT_METRIC_GAUGE},
};

static void collect_cache(void *ctx, double *v)
{
	struct product_cache *c = ctx;
	v[0] = (double)atomic_load(&c->hits);
	v[1] = (double)atomic_load(&c->misses);
	v[2] = (double)atomic_load(&c->bypassed);
	v[3] = (double)atomic_load(&c->write_failures);
	v[4] = (double)atomic_load(&c->repaired);
	v[5] = (double)atomic_load(&c->list_hits);
	v[6] = (double)atomic_load(&c->list_misses);
	v[7] = (double)atomic_load(&c->list_fills);
	v[8] = (double)atomic_load(&c->list_shared);
	v[9] = atomic_load(&c->trusted) ? 1 : 0;
}

static void add_metrics(struct product_app *app)
{
	craft_metrics_add_collector(app->svc.metrics, cache_metrics, CRAFT_ARRAY_LEN(cache_metrics),
				    collect_cache, &app->cache);
}

static int setup(void *ctx, char *err, size_t err_len)
{
	struct product_app *app = ctx;
	struct product_config *c = &app->cfg;
	int rc = craft_service_load_config(&app->svc, product_fields,
					   CRAFT_ARRAY_LEN(product_fields), c, err, err_len);
	if (rc)
		return rc;
	if ((rc = craft_service_open_db(&app->svc, &app->db, product_store_stmts,
					product_store_nstmts, "004", &app->pg, err, err_len)))
		return rc;
	if ((rc = craft_service_open_cache(&app->svc, &app->cache_cfg, product_cache_scripts,
					   product_cache_nscripts, &app->redis, err, err_len)))
		return rc;
	struct craft_httpc_options ho = {
	    .timeout_ms = 2000, .connect_timeout_ms = 1000, .tracer = app->svc.tracer};
	if ((rc = craft_httpc_new(&ho, &app->http))) {
		snprintf(err, err_len, "cannot set up the HTTP client");
		return rc;
	}
	if ((rc = craft_service_open_jwks(&app->svc, &app->jwks_cfg, app->http, &app->jwks, err,
					  err_len)))
		return rc;
	if ((rc = product_cache_start(&app->cache, app->redis, app->pg, c->cache_ttl_s,
				      (unsigned)c->repair_interval_ms))) {
		snprintf(err, err_len, "cannot start the cache repair thread");
		return rc;
	}
	app->cache_started = true;
	struct craft_pg_stats pg;
	craft_pg_pool_stats(app->pg, &pg);
	unsigned threads = (unsigned)(c->db_threads ? c->db_threads : pg.size);
	if ((rc = craft_workq_new(threads, (unsigned)c->db_queue, &app->db_work))) {
		snprintf(err, err_len, "cannot start the database workers");
		return rc;
	}
	add_metrics(app);
	return CRAFT_OK;
}

static void teardown(void *ctx)
{
	struct product_app *app = ctx;
	craft_workq_free(app->db_work); /* the server has drained: nothing is queued */
	if (app->cache_started)
		product_cache_stop(&app->cache);
	if (app->jwks)
		craft_service_close_jwks(&app->jwks_cfg, app->jwks);
	craft_httpc_free(app->http);
	if (app->redis)
		craft_service_close_cache(&app->cache_cfg, app->redis);
	if (app->pg)
		craft_service_close_db(&app->db, app->pg);
	craft_config_free(product_fields, CRAFT_ARRAY_LEN(product_fields), &app->cfg);
}

int main(void)
{
	static struct product_app app = {
	    .svc = {.name = "product",
		    .title = "Product service",
		    .description = "The origami catalogue and its votes: one vote per user per "
				   "origami, counted exactly, cached in Redis without ever "
				   "serving a stale count.",
		    .health = product_health},
	};
	app.svc.links = product_links;
	app.svc.nlinks = product_nlinks;
	const struct craft_service_def def = {.default_port = 8000,
					      .routes = product_routes,
					      .nroutes = product_nroutes,
					      .authorizer = product_authorize,
					      .setup = setup,
					      .teardown = teardown};
	return craft_service_main(&app.svc, &app, &def);
}
