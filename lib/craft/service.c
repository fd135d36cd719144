#include "service.h"

#include "buf.h"
#include "common.h"
#include "config.h"
#include "log.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

#define PAGE_MAX    (256u * 1024u)
#define METRICS_MAX (1024u * 1024u)

#define FIELD(member) offsetof(struct craft_service_config, member)

static const struct craft_config_field service_fields[] = {
    {.name = "PORT",
     .type = CRAFT_CONFIG_INT,
     .default_value = NULL,
     .min = 0,
     .max = 65535,
     .offset = FIELD(port),
     .help = "TCP port to listen on"},
    {.name = "HOST",
     .type = CRAFT_CONFIG_STR,
     .default_value = "0.0.0.0",
     .min = 1,
     .max = 255,
     .offset = FIELD(host),
     .help = "address to bind"},
    {.name = "THREADS",
     .type = CRAFT_CONFIG_INT,
     .default_value = "0",
     .min = 0,
     .max = 256,
     .offset = FIELD(threads),
     .help = "HTTP worker threads, 0 = one per core"},
    {.name = "MAX_BODY_BYTES",
     .type = CRAFT_CONFIG_INT,
     .default_value = "1048576",
     .min = 1024,
     .max = 64L * 1024 * 1024,
     .offset = FIELD(max_body),
     .help = "largest request body accepted"},
    {.name = "LOG_LEVEL",
     .type = CRAFT_CONFIG_STR,
     .default_value = "info",
     .min = 1,
     .max = 16,
     .offset = FIELD(log_level),
     .help = "debug, info, warn or error"},
    {.name = "APP_VERSION",
     .type = CRAFT_CONFIG_STR,
     .default_value = CRAFT_VERSION,
     .min = 1,
     .max = 64,
     .offset = FIELD(app_version),
     .help = "version shown and reported"},
    {.name = "DEPLOYMENT_ENVIRONMENT",
     .type = CRAFT_CONFIG_STR,
     .default_value = "production",
     .min = 1,
     .max = 64,
     .offset = FIELD(environment),
     .help = "development, staging, production ..."},
    {.name = "OTEL_SERVICE_NAME",
     .type = CRAFT_CONFIG_STR,
     .default_value = "",
     .max = 128,
     .offset = FIELD(otel_service_name),
     .help = "service name in traces"},
    {.name = "OTEL_RESOURCE_ATTRIBUTES",
     .type = CRAFT_CONFIG_STR,
     .default_value = "",
     .max = 4096,
     .offset = FIELD(otel_resource_attributes),
     .help = "extra resource attributes, key=value,key=value (percent-encoded)"},
    {.name = "OTEL_EXPORTER_OTLP_ENDPOINT",
     .type = CRAFT_CONFIG_STR,
     .default_value = "",
     .max = 1024,
     .offset = FIELD(otel_endpoint),
     .help = "OTLP/HTTP collector URL"},
    {.name = "OTEL_BSP_SCHEDULE_DELAY",
     .type = CRAFT_CONFIG_INT,
     .default_value = "1000",
     .min = 10,
     .max = 60000,
     .offset = FIELD(otel_delay_ms),
     .help = "span export interval (ms)"},
    {.name = "OTEL_BSP_MAX_QUEUE_SIZE",
     .type = CRAFT_CONFIG_INT,
     .default_value = "2048",
     .min = 1,
     .max = 1000000,
     .offset = FIELD(otel_queue),
     .help = "spans waiting for export"},
    {.name = "OTEL_BSP_MAX_EXPORT_BATCH_SIZE",
     .type = CRAFT_CONFIG_INT,
     .default_value = "512",
     .min = 1,
     .max = 100000,
     .offset = FIELD(otel_batch),
     .help = "spans per export"},
    {.name = "OTEL_EXPORTER_OTLP_TIMEOUT",
     .type = CRAFT_CONFIG_INT,
     .default_value = "10000",
     .min = 10,
     .max = 60000,
     .offset = FIELD(otel_timeout_ms),
     .help = "export timeout (ms)"},
    {.name = "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
     .type = CRAFT_CONFIG_STR,
     .default_value = "",
     .max = 1024,
     .offset = FIELD(otel_traces_endpoint),
     .help = "the traces URL, used as is (wins over OTEL_EXPORTER_OTLP_ENDPOINT)"},
    {.name = "OTEL_EXPORTER_OTLP_HEADERS",
     .type = CRAFT_CONFIG_STR,
     .default_value = "",
     .max = 4096,
     .secret = true,
     .offset = FIELD(otel_headers),
     .help = "headers of every export, key=value,key=value (percent-encoded)"},
    {.name = "OTEL_EXPORTER_OTLP_TRACES_HEADERS",
     .type = CRAFT_CONFIG_STR,
     .default_value = "",
     .max = 4096,
     .secret = true,
     .offset = FIELD(otel_traces_headers),
     .help = "headers of trace exports (wins over OTEL_EXPORTER_OTLP_HEADERS)"},
    {.name = "OTEL_EXPORTER_OTLP_COMPRESSION",
     .type = CRAFT_CONFIG_STR,
     .default_value = "none",
     .max = 16,
     .offset = FIELD(otel_compression),
     .help = "gzip or none"},
    {.name = "OTEL_EXPORTER_OTLP_TRACES_COMPRESSION",
     .type = CRAFT_CONFIG_STR,
     .default_value = "",
     .max = 16,
     .offset = FIELD(otel_traces_compression),
     .help = "gzip or none for traces (wins over OTEL_EXPORTER_OTLP_COMPRESSION)"},
    {.name = "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT",
     .type = CRAFT_CONFIG_INT,
     .default_value = "0",
     .min = 0,
     .max = 60000,
     .offset = FIELD(otel_traces_timeout_ms),
     .help = "per trace export in ms, 0 = OTEL_EXPORTER_OTLP_TIMEOUT"},
    {.name = "OTEL_SDK_DISABLED",
     .type = CRAFT_CONFIG_BOOL,
     .default_value = "false",
     .offset = FIELD(otel_disabled),
     .help = "true: export nothing (context still propagates)"},
    {.name = "OTEL_TRACES_SAMPLER",
     .type = CRAFT_CONFIG_STR,
     .default_value = "parentbased_always_on",
     .max = 64,
     .offset = FIELD(otel_sampler),
     .help = "always_on, always_off, traceidratio, or parentbased_ + one of them"},
    {.name = "OTEL_TRACES_SAMPLER_ARG",
     .type = CRAFT_CONFIG_STR,
     .default_value = "",
     .max = 32,
     .offset = FIELD(otel_sampler_arg),
     .help = "the traceidratio probability, 0 to 1 (default 1)"},
};

static const char HOME_TEMPLATE[] =
    "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
    "<title>Craftista {{title}}</title>\n"
    "<link rel=\"stylesheet\" href=\"/service.css\">\n</head>\n<body>\n<main>\n"
    "<header><p class=\"brand\">Craftista</p><h1>{{title}}</h1>\n"
    "<p>{{description}}</p></header>\n"
    "<section aria-labelledby=\"about\"><h2 id=\"about\">About this instance</h2>\n<dl>\n"
    "<dt>Service</dt><dd>{{name}}</dd>\n<dt>Version</dt><dd>{{version}}</dd>\n"
    "<dt>Environment</dt><dd>{{environment}}</dd>\n"
    "<dt>Hostname</dt><dd>{{system.hostname}}</dd>\n"
    "<dt>IP address</dt><dd>{{system.ip_address}}</dd>\n"
    "<dt>In a container</dt><dd>{{#system.is_container}}yes{{/system.is_container}}"
    "{{^system.is_container}}no{{/system.is_container}}</dd>\n"
    "<dt>On Kubernetes</dt><dd>{{#system.is_kubernetes}}yes{{/system.is_kubernetes}}"
    "{{^system.is_kubernetes}}no{{/system.is_kubernetes}}</dd>\n"
    "<dt>Up since</dt><dd>{{started}}</dd>\n</dl></section>\n"
    "<section aria-labelledby=\"api\"><h2 id=\"api\">API</h2>\n<ul class=\"api\">\n"
    "{{#links}}<li><span class=\"method\">{{method}}</span> "
    "{{#href}}<a href=\"{{href}}\">{{path}}</a>{{/href}}{{^href}}<code>{{path}}</code>{{/href}}"
    " <span class=\"what\">{{what}}</span></li>\n{{/links}}"
    "</ul></section>\n</main>\n</body>\n</html>\n";

static const char STYLESHEET[] =
    ":root{--paper:#fbf8f1;--ink:#2b2a33;--fold:#d9cfbd;--accent:#c2410c}\n"
    "*{box-sizing:border-box}\n"
    "body{margin:0;background:var(--paper);color:var(--ink);"
    "font:16px/1.5 system-ui,-apple-system,'Segoe UI',sans-serif}\n"
    "main{max-width:52rem;margin:0 auto;padding:2rem 1.25rem}\n"
    ".brand{margin:0;color:var(--accent);font-weight:700;letter-spacing:.08em;"
    "text-transform:uppercase;font-size:.8rem}\n"
    "h1{margin:.2rem 0 .5rem;font-size:2rem}\n"
    "section{background:#fff;border:1px solid var(--fold);border-radius:.5rem;"
    "padding:1rem 1.25rem;margin:1.25rem 0;box-shadow:0 1px 0 var(--fold)}\n"
    "h2{font-size:1.15rem;margin:.25rem 0 .75rem}\n"
    "dl{display:grid;grid-template-columns:max-content 1fr;gap:.35rem 1rem;margin:0}\n"
    "dt{font-weight:600}dd{margin:0;word-break:break-all}\n"
    ".api{list-style:none;padding:0;margin:0}.api li{padding:.35rem 0;"
    "border-top:1px dashed var(--fold)}.api li:first-child{border-top:0}\n"
    ".method{display:inline-block;min-width:4.2rem;font:600 .8rem ui-monospace,monospace;"
    "color:var(--accent)}\n"
    "a{color:#1d4ed8}a:focus-visible{outline:3px solid var(--accent);outline-offset:2px}\n"
    "code{font-family:ui-monospace,monospace}.what{color:#5b5866}\n";

void craft_service_timestamp(char out[32])
{
	struct timeval tv;
	gettimeofday(&tv, NULL);
	struct tm tm;
	gmtime_r(&tv.tv_sec, &tm);
	char base[24];
	strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out, 32, "%s.%03dZ", base, (int)(tv.tv_usec / 1000) % 1000);
}

static int load_config(struct craft_service_config *cfg, long default_port, char *err,
		       size_t err_len)
{
	struct craft_config_field fields[CRAFT_ARRAY_LEN(service_fields)];
	memcpy(fields, service_fields, sizeof(fields));
	char port[16];
	snprintf(port, sizeof(port), "%ld", default_port);
	fields[0].default_value = port;
	const char *env = getenv("DEPLOYMENT_ENVIRONMENT");
	cfg->development = craft_config_is_development(env);
	return craft_config_load(fields, CRAFT_ARRAY_LEN(fields), cfg, NULL, NULL, cfg->development,
				 err, err_len);
}

/* Metric callbacks read through the service. */
static const struct craft_metric_desc span_metrics[] = {
    {"craft_spans_exported_total", "Spans sent to the collector", CRAFT_METRIC_COUNTER},
    {"craft_spans_dropped_total", "Spans dropped (queue full or export failed)",
     CRAFT_METRIC_COUNTER},
    {"craft_span_export_retries_total", "Span exports tried again after a retryable failure",
     CRAFT_METRIC_COUNTER},
};

static void collect_spans(void *ctx, double *v)
{
	struct craft_otlp_stats st;
	craft_otlp_stats(ctx, &st);
	v[0] = (double)st.exported;
	v[1] = (double)st.dropped;
	v[2] = (double)st.retries;
}

static double uptime_seconds(void *ctx)
{
	const struct craft_service *svc = ctx;
	return difftime(time(NULL), svc->started);
}

/* The signal-specific setting when set, else the generic one. */
static const char *either(const char *traces, const char *generic)
{
	return traces && traces[0] ? traces : generic;
}

/* The sampler, and the exporter when an endpoint is set and the SDK is not
 * disabled, from the OTEL_* settings (signal-specific over generic). */
static int start_tracing(struct craft_service *svc, char *err, size_t err_len)
{
	const struct craft_service_config *c = &svc->config;
	int rc = craft_tracer_set_sampler(svc->tracer, c->otel_sampler, c->otel_sampler_arg, err,
					  err_len);
	if (rc)
		return rc;
	const char *compression = either(c->otel_traces_compression, c->otel_compression);
	if (strcmp(compression, "gzip") != 0 && strcmp(compression, "none") != 0) {
		snprintf(err, err_len,
			 "OTEL_EXPORTER_OTLP_%sCOMPRESSION must be gzip or none (got \"%.16s\")",
			 c->otel_traces_compression[0] ? "TRACES_" : "", compression);
		return CRAFT_EINVAL;
	}
	if (c->otel_disabled || (!c->otel_endpoint[0] && !c->otel_traces_endpoint[0]))
		return CRAFT_OK;
	struct craft_otlp_options oo = {.endpoint = c->otel_endpoint,
					.traces_endpoint = c->otel_traces_endpoint,
					.headers = either(c->otel_traces_headers, c->otel_headers),
					.gzip = strcmp(compression, "gzip") == 0,
					.max_queue = (unsigned)c->otel_queue,
					.max_batch = (unsigned)c->otel_batch,
					.schedule_delay_ms = (unsigned)c->otel_delay_ms,
					.timeout_ms = (unsigned)(c->otel_traces_timeout_ms
								     ? c->otel_traces_timeout_ms
								     : c->otel_timeout_ms),
					.resource_attributes = c->otel_resource_attributes,
					.service_name_set = c->otel_service_name[0] != '\0'};
	if (craft_curl_global_init() != CRAFT_OK) {
		snprintf(err, err_len, "libcurl cannot initialise");
		return CRAFT_EIO;
	}
	if ((rc = craft_otlp_start(svc->tracer, &oo, &svc->otlp))) {
		snprintf(err, err_len, "%s",
			 rc == CRAFT_EINVAL
			     ? "OTEL_EXPORTER_OTLP_(TRACES_)HEADERS must be a list of "
			       "key=value pairs"
			     : "cannot start span export");
		return rc;
	}
	craft_metrics_add_collector(svc->metrics, span_metrics, CRAFT_ARRAY_LEN(span_metrics),
				    collect_spans, svc->otlp);
	return CRAFT_OK;
}

int craft_service_init(struct craft_service *svc, long default_port, char *err, size_t err_len)
{
	memset(&svc->config, 0, sizeof(svc->config));
	svc->nchecks = 0;
	int rc = load_config(&svc->config, default_port, err, err_len);
	if (rc)
		return rc;
	enum craft_log_level level;
	if (craft_log_level_parse(svc->config.log_level, &level) != CRAFT_OK) {
		snprintf(err, err_len, "LOG_LEVEL must be debug, info, warn or error (got \"%s\")",
			 svc->config.log_level);
		return CRAFT_EINVAL;
	}
	craft_log_init(svc->name, level, NULL);
	const char *trace_name =
	    svc->config.otel_service_name[0] ? svc->config.otel_service_name : svc->name;
	svc->tracer =
	    craft_tracer_new(trace_name, svc->config.app_version, svc->config.environment);
	svc->metrics = craft_metrics_new(svc->name);
	if ((rc = start_tracing(svc, err, err_len)))
		return rc;
	craft_metrics_add_gauge(svc->metrics, "craft_uptime_seconds",
				"Seconds since the service started", uptime_seconds, svc);
	craft_sysinfo_read(&svc->sysinfo);
	char perr[256];
	rc = craft_template_parse("service-home", HOME_TEMPLATE, sizeof(HOME_TEMPLATE) - 1,
				  &svc->home, perr, sizeof(perr));
	if (rc) {
		snprintf(err, err_len, "home page template: %s", perr);
		return CRAFT_EINTERNAL;
	}
	svc->started = time(NULL);
	return CRAFT_OK;
}

int craft_service_load_config(struct craft_service *svc, const struct craft_config_field *fields,
			      size_t count, void *target, char *err, size_t err_len)
{
	int rc = craft_config_load(fields, count, target, NULL, NULL, svc->config.development, err,
				   err_len);
	if (rc == CRAFT_OK)
		craft_config_log(fields, count, target);
	return rc;
}

void craft_service_cleanup(struct craft_service *svc)
{
	craft_template_free(svc->home);
	svc->home = NULL;
	craft_metrics_free(svc->metrics);
	svc->metrics = NULL;
	craft_otlp_stop(svc->otlp); /* flushes what is queued */
	svc->otlp = NULL;
	craft_tracer_free(svc->tracer);
	svc->tracer = NULL;
	craft_config_free(service_fields, CRAFT_ARRAY_LEN(service_fields), &svc->config);
}

static void service_home(craft_req *req);
static void service_health(craft_req *req);
static void service_metrics(craft_req *req);
static void service_stylesheet(craft_req *req);

/* The service's own routes, then the common ones, in one table made once at
 * start-up: the service's routes are tried first, as before, so the common
 * ones add no work to the requests of the service. */
static struct craft_route *route_table(const struct craft_service_def *def, size_t *count)
{
	const struct craft_route common[] = {
	    {.method = "GET",
	     .pattern = def->home_path ? def->home_path : "/",
	     .handler = service_home},
	    {.method = "GET", .pattern = "/health", .handler = service_health},
	    {.method = "GET", .pattern = "/metrics", .handler = service_metrics},
	    {.method = "GET", .pattern = "/service.css", .handler = service_stylesheet},
	};
	size_t n = CRAFT_ARRAY_LEN(common);
	struct craft_route *routes = craft_xcalloc(n + def->nroutes, sizeof(*routes));
	if (def->nroutes)
		memcpy(routes, def->routes, def->nroutes * sizeof(*routes));
	memcpy(routes + def->nroutes, common, sizeof(common));
	*count = n + def->nroutes;
	return routes;
}

static int serve(struct craft_service *svc, void *app, const struct craft_service_def *def)
{
	size_t nroutes = 0;
	struct craft_route *routes = route_table(def, &nroutes);
	struct craft_server_options opts = {
	    .service = svc->name,
	    .host = svc->config.host,
	    .port = (unsigned)svc->config.port,
	    .threads = (unsigned)svc->config.threads,
	    .max_body = (size_t)svc->config.max_body,
	    .hsts = !svc->config.development,
	    .routes = routes,
	    .nroutes = nroutes,
	    .authorizer = def->authorizer,
	    .fallback = def->fallback,
	    .tracer = svc->tracer,
	    .metrics = svc->metrics,
	    .app = app,
	};
	craft_server *server = NULL;
	char err[256];
	if (craft_server_start(&opts, &server, err, sizeof(err)) != CRAFT_OK) {
		craft_log(CRAFT_LOG_ERROR, NULL, "cannot start", "{s:s}", "reason", err);
		fprintf(stderr, "%s: %s\n", svc->name, err);
		free(routes);
		return CRAFT_EIO;
	}
	craft_server_wait_for_signal();
	craft_server_stop(server);
	free(routes);
	craft_log(CRAFT_LOG_INFO, NULL, "stopped", NULL);
	return CRAFT_OK;
}

int craft_service_main(struct craft_service *svc, void *app, const struct craft_service_def *def)
{
	char err[512];
	craft_server_block_signals(); /* before any thread exists */
	if (craft_curl_global_init() != CRAFT_OK) {
		fprintf(stderr, "%s: libcurl cannot initialise\n", svc->name);
		return 2;
	}
	if (craft_service_init(svc, def->default_port, err, sizeof(err)) != CRAFT_OK) {
		fprintf(stderr, "%s: configuration error: %s\n", svc->name, err);
		return 2;
	}
	int status = 0;
	if (def->setup && def->setup(app, err, sizeof(err)) != CRAFT_OK) {
		craft_log(CRAFT_LOG_ERROR, NULL, "cannot start", "{s:s}", "reason", err);
		fprintf(stderr, "%s: %s\n", svc->name, err);
		status = 2;
	} else if (serve(svc, app, def) != CRAFT_OK) {
		status = 1;
	}
	if (def->teardown)
		def->teardown(app);
	craft_service_cleanup(svc);
	return status;
}

int craft_service_add_check(struct craft_service *svc, const char *name,
			    craft_dependency_check check, void *ctx)
{
	if (svc->nchecks == CRAFT_SERVICE_MAX_CHECKS)
		return CRAFT_ETOOBIG;
	svc->checks[svc->nchecks++] =
	    (struct craft_service_check){.name = name, .check = check, .ctx = ctx};
	return CRAFT_OK;
}

static struct craft_service *service_of(craft_req *req)
{
	return req->app;
}

static void service_home(craft_req *req)
{
	struct craft_service *svc = service_of(req);
	char started[32];
	struct tm tm;
	gmtime_r(&svc->started, &tm);
	strftime(started, sizeof(started), "%Y-%m-%d %H:%M:%S UTC", &tm);
	json_t *links = json_array();
	for (size_t i = 0; i < svc->nlinks; i++) {
		const struct craft_service_link *l = &svc->links[i];
		json_t *item = json_pack("{s:s, s:s, s:s}", "method", l->method, "path", l->path,
					 "what", l->what);
		if (strcmp(l->method, "GET") == 0 && !strchr(l->path, '{'))
			json_object_set_new(item, "href", json_string(l->path));
		json_array_append_new(links, item);
	}
	json_t *data =
	    json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:{s:s, s:s, s:b, s:b}, s:o}", "name",
		      svc->name, "title", svc->title, "description", svc->description, "version",
		      svc->config.app_version, "environment", svc->config.environment, "started",
		      started, "system", "hostname", svc->sysinfo.hostname, "ip_address",
		      svc->sysinfo.ip_address, "is_container", svc->sysinfo.is_container,
		      "is_kubernetes", svc->sysinfo.is_kubernetes, "links", links);
	craft_buf out;
	craft_buf_init(&out, PAGE_MAX);
	int rc = craft_template_render(svc->home, NULL, data, &out);
	json_decref(data);
	if (rc) {
		craft_buf_cleanup(&out);
		craft_reply_error(req, 500, "Cannot render the home page");
		return;
	}
	craft_reply_html(req, 200, out.data, out.len);
	craft_buf_cleanup(&out);
}

/* The openers' checks: "up"/"down" in checks, the reasons of the down ones
 * in health.reasons. False when one is down. */
static bool run_checks(const struct craft_service *svc, craft_req *req, json_t *checks,
		       json_t *health)
{
	bool ok = true;
	json_t *reasons = NULL;
	for (size_t i = 0; i < svc->nchecks; i++) {
		const struct craft_service_check *c = &svc->checks[i];
		char reason[256] = "";
		bool up = c->check(c->ctx, req, reason, sizeof(reason));
		json_object_set_new(checks, c->name, json_string(up ? "up" : "down"));
		if (up)
			continue;
		ok = false;
		if (!reasons)
			reasons = json_object();
		json_object_set_new(reasons, c->name, json_string(reason[0] ? reason : "down"));
	}
	if (reasons)
		json_object_set_new(health, "reasons", reasons);
	return ok;
}

static void service_health(craft_req *req)
{
	struct craft_service *svc = service_of(req);
	char ts[32];
	craft_service_timestamp(ts);
	json_t *checks = json_object();
	json_t *health = json_pack("{s:s, s:s, s:s}", "service", svc->name, "timestamp", ts,
				   "version", svc->config.app_version);
	bool ok = run_checks(svc, req, checks, health);
	if (svc->health && !svc->health(req->app, req, checks, health))
		ok = false;
	json_object_set_new(health, "status", json_string(ok ? "healthy" : "unhealthy"));
	json_object_set_new(health, "checks", checks);
	craft_reply_header(req, "Cache-Control", "no-store");
	craft_reply_json(req, ok ? 200 : 503, health);
}

static void service_metrics(craft_req *req)
{
	struct craft_service *svc = service_of(req);
	craft_buf out;
	craft_buf_init(&out, METRICS_MAX);
	if (craft_metrics_render(svc->metrics, &out) != CRAFT_OK) {
		craft_buf_cleanup(&out);
		craft_reply_error(req, 500, "Cannot render metrics");
		return;
	}
	size_t len = 0;
	char *text = craft_buf_steal(&out, &len);
	craft_reply_take(req, 200, "text/plain; version=0.0.4; charset=utf-8", text, len);
}

static void service_stylesheet(craft_req *req)
{
	craft_reply_header(req, "Cache-Control", "public, max-age=3600");
	craft_reply(req, 200, "text/css; charset=utf-8", STYLESHEET, sizeof(STYLESHEET) - 1);
}
