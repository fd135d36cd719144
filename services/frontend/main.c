/* main.c - frontend: read config, load templates and static files, serve. */
#include "app.h"

#include "craft/common.h"
#include "craft/config.h"
#include "craft/log.h"

#include <openssl/sha.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define FIELD(member) offsetof(struct frontend_config, member)

static const struct craft_config_field frontend_fields[] = {
    {.name = "PRODUCTS_API_BASE_URI",
     .type = CRAFT_CONFIG_STR,
     .default_value = "http://localhost:8000",
     .min = 1,
     .max = 500,
     .offset = FIELD(products_url),
     .help = "product service base URL"},
    {.name = "RECOMMENDATION_BASE_URI",
     .type = CRAFT_CONFIG_STR,
     .default_value = "http://localhost:8080",
     .min = 1,
     .max = 500,
     .offset = FIELD(recommendation_url),
     .help = "recommendation service base URL"},
    {.name = "VOTING_BASE_URI",
     .type = CRAFT_CONFIG_STR,
     .default_value = "",
     .max = 500,
     .offset = FIELD(voting_url),
     .help = "voting base URL; empty = PRODUCTS_API_BASE_URI"},
    {.name = "INTERNAL_API_KEY",
     .type = CRAFT_CONFIG_STR,
     .default_value = "craftista-dev-internal-key",
     .min = 16,
     .max = 512,
     .secret = true,
     .offset = FIELD(internal_api_key),
     .help = "key for auth's internal registration"},
    {.name = "NODE_ENV",
     .type = CRAFT_CONFIG_STR,
     .default_value = "development",
     .max = 64,
     .offset = FIELD(node_env),
     .help = "production turns on Secure cookies"},
    {.name = "COOKIE_SECURE",
     .type = CRAFT_CONFIG_BOOL,
     .default_value = "false",
     .offset = FIELD(cookie_secure),
     .help = "mark the session cookies Secure"},
    {.name = "PUBLIC_ORIGIN",
     .type = CRAFT_CONFIG_STR,
     .default_value = "",
     .max = 500,
     .offset = FIELD(public_origin),
     .help = "the shop's origin (https://shop.example); empty = from the Host header"},
    {.name = "TRUSTED_PROXIES",
     .type = CRAFT_CONFIG_STR,
     .default_value = "",
     .max = 2000,
     .offset = FIELD(trusted_proxies),
     .help = "comma-separated CIDRs of proxies whose X-Forwarded-For is believed; "
	     "empty = none"},
    {.name = "STATIC_DIR",
     .type = CRAFT_CONFIG_STR,
     .default_value = "services/frontend/static",
     .min = 1,
     .max = 2000,
     .offset = FIELD(static_dir),
     .help = "static files"},
    {.name = "TEMPLATE_DIR",
     .type = CRAFT_CONFIG_STR,
     .default_value = "services/frontend/templates",
     .min = 1,
     .max = 2000,
     .offset = FIELD(template_dir),
     .help = "page templates"},
    {.name = "BACKEND_TIMEOUT_MS",
     .type = CRAFT_CONFIG_INT,
     .default_value = "1500",
     .min = 50,
     .max = 30000,
     .offset = FIELD(backend_timeout_ms),
     .help = "timeout of each backend call"},
    {.name = "PAGE_SIZE",
     .type = CRAFT_CONFIG_INT,
     .default_value = "12",
     .min = 1,
     .max = 100,
     .offset = FIELD(page_size),
     .help = "cards per page"},
    {.name = "STATUS_INTERVAL_MS",
     .type = CRAFT_CONFIG_INT,
     .default_value = "1000",
     .min = 100,
     .max = 60000,
     .offset = FIELD(status_interval_ms),
     .help = "how often the status dashboard probes the backends"},
};

static void collect_resource(void *ctx, double *v)
{
	struct reval_resource *r = ctx;
	v[0] = (double)atomic_load(&r->sent);
	v[1] = (double)atomic_load(&r->not_modified);
	v[2] = (double)atomic_load(&r->fetched);
	v[3] = (double)atomic_load(&r->failed);
}

static void add_resource_metrics(craft_metrics *m, const char *name, struct reval_resource *r)
{
	static const struct craft_metric_desc rows[] = {
	    {"revalidations_total", "Conditional requests sent (one per round of page views)",
	     CRAFT_METRIC_COUNTER},
	    {"not_modified_total", "Rounds answered 304: the kept answer was still current",
	     CRAFT_METRIC_COUNTER},
	    {"fetched_total", "Rounds answered with a new body (parsed once)",
	     CRAFT_METRIC_COUNTER},
	    {"failures_total", "Rounds that failed (unreachable or 5xx)", CRAFT_METRIC_COUNTER},
	};
	char names[CRAFT_ARRAY_LEN(rows)][128];
	struct craft_metric_desc descs[CRAFT_ARRAY_LEN(rows)];
	for (size_t i = 0; i < CRAFT_ARRAY_LEN(rows); i++) {
		snprintf(names[i], sizeof(names[i]), "craft_frontend_%s_%s", name, rows[i].name);
		descs[i] = rows[i];
		descs[i].name = names[i];
	}
	craft_metrics_add_collector(m, descs, CRAFT_ARRAY_LEN(descs), collect_resource, r);
}

static const struct craft_metric_desc page_metrics[] = {
    {"craft_frontend_page_cache_hits_total", "Anonymous pages served already rendered",
     CRAFT_METRIC_COUNTER},
    {"craft_frontend_page_cache_misses_total", "Anonymous pages rendered", CRAFT_METRIC_COUNTER},
};

static void collect_pages(void *ctx, double *v)
{
	struct render_cache *c = ctx;
	v[0] = (double)atomic_load(&c->hits);
	v[1] = (double)atomic_load(&c->misses);
}

static void add_metrics(struct frontend_app *app)
{
	craft_metrics *m = app->svc.metrics;
	add_resource_metrics(m, "catalogue", &app->catalogue);
	add_resource_metrics(m, "daily", &app->daily);
	craft_metrics_add_collector(m, page_metrics, CRAFT_ARRAY_LEN(page_metrics), collect_pages,
				    &app->pages);
}

/* What the catalogue and the origami of the day answered goes on the
 * dashboard, judged like every other answer. */
static void reval_outcome(void *ctx, struct reval_resource *r, const struct reval_answer *a)
{
	struct frontend_app *app = ctx;
	status_observe(&app->status, (enum backend_id)r->backend,
		       backend_up(a->result, a->status, a->json));
}

/* The revalidated resources, their ticker and the status prober. */
static int start_watchers(struct frontend_app *app, char *err, size_t err_len)
{
	const struct frontend_config *c = &app->cfg;
	const struct gateway *g = &app->gateway;
	char url[GATEWAY_URL_MAX + 64];
	snprintf(url, sizeof(url), "%s/api/products", g->base[BACKEND_CATALOGUE]);
	reval_init(&app->catalogue, app->http, url, "/api/products",
		   (unsigned)c->backend_timeout_ms);
	snprintf(url, sizeof(url), "%s/api/origami-of-the-day", g->base[BACKEND_RECOMMENDATION]);
	reval_init(&app->daily, app->http, url, "/api/origami-of-the-day",
		   (unsigned)c->backend_timeout_ms);
	app->catalogue.backend = BACKEND_CATALOGUE;
	app->daily.backend = BACKEND_RECOMMENDATION;
	app->catalogue.on_outcome = app->daily.on_outcome = reval_outcome;
	app->catalogue.outcome_ctx = app->daily.outcome_ctx = app;
	render_cache_init(&app->pages);
	app->revalidated[0] = &app->catalogue;
	app->revalidated[1] = &app->daily;
	if (reval_ticker_start(&app->ticker, app->revalidated, 2, REVAL_STALL_MS / 2)) {
		snprintf(err, err_len, "cannot start the revalidation ticker");
		return CRAFT_EIO;
	}
	const char *const bases[BACKEND_COUNT] = {g->base[0], g->base[1], g->base[2], g->base[3]};
	unsigned probe_timeout = (unsigned)c->backend_timeout_ms;
	if (probe_timeout > (unsigned)c->status_interval_ms)
		probe_timeout = (unsigned)c->status_interval_ms;
	if (status_start(&app->status, app->http, bases, (unsigned)c->status_interval_ms,
			 probe_timeout)) {
		snprintf(err, err_len, "cannot start the status prober");
		return CRAFT_EIO;
	}
	return CRAFT_OK;
}

static int setup(void *ctx, char *err, size_t err_len)
{
	struct frontend_app *app = ctx;
	struct frontend_config *c = &app->cfg;
	int rc = craft_service_load_config(&app->svc, frontend_fields,
					   CRAFT_ARRAY_LEN(frontend_fields), c, err, err_len);
	if (rc)
		return rc;
	char why[160];
	if (craft_proxy_list_parse(c->trusted_proxies, &app->proxies, why, sizeof(why))) {
		snprintf(err, err_len, "TRUSTED_PROXIES: %s", why);
		return CRAFT_EINVAL;
	}
	app->session.secure = c->cookie_secure || strcasecmp(c->node_env, "production") == 0;
	app->session.public_origin = c->public_origin;
	/* The flash cookie's MAC key, derived from the shared secret. */
	char seed[600];
	snprintf(seed, sizeof(seed), "craftista-flash:%s", c->internal_api_key);
	SHA256((const unsigned char *)seed, strlen(seed), app->session.flash_key);
	if ((rc = craft_template_set_load_dir(c->template_dir, &app->templates, err, err_len)))
		return rc;
	if ((rc = static_load(c->static_dir, &app->files, err, err_len)))
		return rc;
	craft_log(CRAFT_LOG_INFO, NULL, "static files loaded", "{s:i, s:I}", "files",
		  (int)app->files.count, "bytes", (json_int_t)app->files.total_bytes);
	struct craft_httpc_options ho = {.timeout_ms = (unsigned)c->backend_timeout_ms,
					 .connect_timeout_ms = 500,
					 .tracer = app->svc.tracer};
	if ((rc = craft_httpc_new(&ho, &app->http))) {
		snprintf(err, err_len, "cannot set up the HTTP client");
		return rc;
	}
	if ((rc = craft_service_open_jwks(&app->svc, &app->jwks_cfg, app->http, &app->jwks, err,
					  err_len)))
		return rc;
	const char *const bases[BACKEND_COUNT] = {
	    [BACKEND_CATALOGUE] = c->products_url,
	    [BACKEND_VOTING] = c->voting_url[0] ? c->voting_url : c->products_url,
	    [BACKEND_RECOMMENDATION] = c->recommendation_url,
	    [BACKEND_AUTHENTICATION] = app->jwks_cfg.auth_url};
	gateway_init(&app->gateway, app->http, bases, (unsigned)c->backend_timeout_ms,
		     c->internal_api_key, &app->status);
	if ((rc = craft_httpc_loop_start(app->http, 0))) {
		snprintf(err, err_len, "cannot start the HTTP client's event loop");
		return rc;
	}
	if ((rc = start_watchers(app, err, err_len)))
		return rc;
	app->ready = true;
	add_metrics(app);
	return CRAFT_OK;
}

static void teardown(void *ctx)
{
	struct frontend_app *app = ctx;
	status_stop(&app->status);
	reval_ticker_stop(&app->ticker);
	if (app->jwks)
		craft_service_close_jwks(&app->jwks_cfg, app->jwks);
	craft_httpc_free(app->http); /* stops the loop: nothing is in flight any more */
	if (app->ready) {
		reval_cleanup(&app->catalogue);
		reval_cleanup(&app->daily);
		render_cache_cleanup(&app->pages);
	}
	static_free(&app->files);
	craft_template_set_free(app->templates);
	craft_config_free(frontend_fields, CRAFT_ARRAY_LEN(frontend_fields), &app->cfg);
}

int main(void)
{
	static struct frontend_app app = {
	    .svc = {.name = "frontend",
		    .title = "Frontend service",
		    .description = "The Craftista shop: server-rendered pages over the auth, "
				   "product and recommendation services.",
		    .health = frontend_health},
	};
	static const struct craft_service_link links[] = {
	    {.method = "GET", .path = "/", .what = "the origami showcase"},
	    {.method = "GET", .path = "/login", .what = "log in or register"},
	    {.method = "GET", .path = "/api/service-status", .what = "backend status"},
	    {.method = "GET", .path = "/daily-origami", .what = "the origami of the day"},
	    {.method = "GET", .path = "/health", .what = "health for probes"},
	    {.method = "GET", .path = "/metrics", .what = "Prometheus metrics"},
	};
	app.svc.links = links;
	app.svc.nlinks = CRAFT_ARRAY_LEN(links);
	const struct craft_service_def def = {.default_port = 3000,
					      .home_path = "/about",
					      .routes = frontend_routes,
					      .nroutes = frontend_nroutes,
					      .fallback = frontend_static,
					      .setup = setup,
					      .teardown = teardown};
	return craft_service_main(&app.svc, &app, &def);
}
