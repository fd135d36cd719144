/* service_deps.c - the shared openers of a service's dependencies
 * (PostgreSQL, Redis, auth's JWK set): their settings tables, the pools they
 * build and the figures they export to /metrics. Declared in service.h. */
#include "service.h"

#include "common.h"
#include "config.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define DB_FIELD(member) offsetof(struct craft_db_config, member)

static const struct craft_config_field db_url_field[] = {
    {.name = "DATABASE_URL",
     .type = CRAFT_CONFIG_STR,
     .default_value = "",
     .max = 4096,
     .secret = true,
     .offset = DB_FIELD(database_url),
     .help = "libpq connection URI; overrides the POSTGRES_* settings"},
};

static const struct craft_config_field db_fields[] = {
    {.name = "POSTGRES_HOST",
     .type = CRAFT_CONFIG_STR,
     .default_value = "localhost",
     .min = 1,
     .max = 255,
     .offset = DB_FIELD(host),
     .help = "PostgreSQL host"},
    {.name = "POSTGRES_PORT",
     .type = CRAFT_CONFIG_INT,
     .default_value = "5432",
     .min = 1,
     .max = 65535,
     .offset = DB_FIELD(port),
     .help = "PostgreSQL port"},
    {.name = "POSTGRES_USER",
     .type = CRAFT_CONFIG_STR,
     .default_value = "postgres",
     .min = 1,
     .max = 128,
     .offset = DB_FIELD(user),
     .help = "PostgreSQL user"},
    {.name = "POSTGRES_PASSWORD",
     .type = CRAFT_CONFIG_STR,
     .default_value = "postgres",
     .max = 1024,
     .secret = true,
     .offset = DB_FIELD(password),
     .help = "PostgreSQL password"},
    {.name = "POSTGRES_DB",
     .type = CRAFT_CONFIG_STR,
     .default_value = "craftista",
     .min = 1,
     .max = 128,
     .offset = DB_FIELD(dbname),
     .help = "PostgreSQL database"},
    {.name = "PG_POOL_SIZE",
     .type = CRAFT_CONFIG_INT,
     .default_value = "0",
     .min = 0,
     .max = 256,
     .offset = DB_FIELD(pool_size),
     .help = "PostgreSQL connections, 0 = one per core"},
    {.name = "PG_ACQUIRE_TIMEOUT_MS",
     .type = CRAFT_CONFIG_INT,
     .default_value = "2000",
     .min = 1,
     .max = 60000,
     .offset = DB_FIELD(acquire_timeout_ms),
     .help = "longest wait for a free PostgreSQL connection"},
    {.name = "PG_STATEMENT_TIMEOUT_MS",
     .type = CRAFT_CONFIG_INT,
     .default_value = "5000",
     .min = 1,
     .max = 600000,
     .offset = DB_FIELD(statement_timeout_ms),
     .help = "server-side statement timeout"},
    {.name = "PG_CONNECT_TIMEOUT_S",
     .type = CRAFT_CONFIG_INT,
     .default_value = "3",
     .min = 1,
     .max = 60,
     .offset = DB_FIELD(connect_timeout_s),
     .help = "PostgreSQL connect timeout"},
};

static double pg_stat(craft_pg_pool *pool, int which)
{
	struct craft_pg_stats st;
	craft_pg_pool_stats(pool, &st);
	switch (which) {
	case 0: return st.size;
	case 1: return st.in_use;
	case 2: return st.waiting;
	case 3: return (double)st.acquire_timeouts;
	case 4: return (double)st.reconnects;
	default: return (double)st.errors;
	}
}
static double pg_size(void *ctx)
{
	return pg_stat(ctx, 0);
}
static double pg_in_use(void *ctx)
{
	return pg_stat(ctx, 1);
}
static double pg_waiting(void *ctx)
{
	return pg_stat(ctx, 2);
}
static double pg_timeouts(void *ctx)
{
	return pg_stat(ctx, 3);
}
static double pg_reconnects(void *ctx)
{
	return pg_stat(ctx, 4);
}
static double pg_errors(void *ctx)
{
	return pg_stat(ctx, 5);
}

int craft_service_open_db(struct craft_service *svc, struct craft_db_config *cfg,
			  const struct craft_pg_stmt *stmts, size_t nstmts, craft_pg_pool **out,
			  char *err, size_t err_len)
{
	memset(cfg, 0, sizeof(*cfg));
	int rc = craft_config_load(db_url_field, 1, cfg, NULL, NULL, true, err, err_len);
	if (rc)
		return rc;
	bool lenient = svc->config.development || cfg->database_url[0] != '\0';
	rc = craft_config_load(db_fields, CRAFT_ARRAY_LEN(db_fields), cfg, NULL, NULL, lenient, err,
			       err_len);
	if (rc)
		return rc;
	char conninfo[2048];
	const char *ci = cfg->database_url;
	if (!ci[0]) {
		char port[16];
		snprintf(port, sizeof(port), "%ld", cfg->port);
		if (craft_pg_conninfo_build(conninfo, sizeof(conninfo), cfg->host, port, cfg->user,
					    cfg->password, cfg->dbname) != CRAFT_OK) {
			snprintf(err, err_len, "PostgreSQL settings too long");
			return CRAFT_EINVAL;
		}
		ci = conninfo;
	}
	long cores = sysconf(_SC_NPROCESSORS_ONLN);
	struct craft_pg_options opts = {
	    .conninfo = ci,
	    .size = (unsigned)(cfg->pool_size ? cfg->pool_size : (cores > 0 ? cores : 2)),
	    .acquire_timeout_ms = (unsigned)cfg->acquire_timeout_ms,
	    .connect_timeout_s = (unsigned)cfg->connect_timeout_s,
	    .statement_timeout_ms = (unsigned)cfg->statement_timeout_ms,
	    .tracer = svc->tracer,
	};
	rc = craft_pg_pool_new(&opts, stmts, nstmts, out);
	if (rc) {
		snprintf(err, err_len,
			 "cannot set up the PostgreSQL pool (check DATABASE_URL / POSTGRES_*)");
		return rc;
	}
	craft_metrics_add_gauge(svc->metrics, "craft_pg_pool_size", "PostgreSQL pool connections",
				pg_size, *out);
	craft_metrics_add_gauge(svc->metrics, "craft_pg_pool_in_use",
				"PostgreSQL connections in use", pg_in_use, *out);
	craft_metrics_add_gauge(svc->metrics, "craft_pg_pool_waiting",
				"Threads waiting for a PostgreSQL connection", pg_waiting, *out);
	craft_metrics_add_counter(svc->metrics, "craft_pg_acquire_timeouts_total",
				  "PostgreSQL acquire timeouts", pg_timeouts, *out);
	craft_metrics_add_counter(svc->metrics, "craft_pg_reconnects_total",
				  "PostgreSQL reconnects", pg_reconnects, *out);
	craft_metrics_add_counter(svc->metrics, "craft_pg_errors_total", "PostgreSQL errors",
				  pg_errors, *out);
	return CRAFT_OK;
}

void craft_service_close_db(struct craft_db_config *cfg, craft_pg_pool *pool)
{
	craft_pg_pool_free(pool);
	craft_config_free(db_url_field, 1, cfg);
	craft_config_free(db_fields, CRAFT_ARRAY_LEN(db_fields), cfg);
}

#define CACHE_FIELD(member) offsetof(struct craft_cache_config, member)

static const struct craft_config_field cache_fields[] = {
    {.name = "REDIS_HOST",
     .type = CRAFT_CONFIG_STR,
     .default_value = "localhost",
     .min = 1,
     .max = 255,
     .offset = CACHE_FIELD(host),
     .help = "Redis host"},
    {.name = "REDIS_PORT",
     .type = CRAFT_CONFIG_INT,
     .default_value = "6379",
     .min = 1,
     .max = 65535,
     .offset = CACHE_FIELD(port),
     .help = "Redis port"},
    {.name = "REDIS_PASSWORD",
     .type = CRAFT_CONFIG_STR,
     .default_value = "",
     .max = 512,
     .secret = true,
     .offset = CACHE_FIELD(password),
     .help = "Redis AUTH password (requirepass); empty = none"},
    {.name = "REDIS_POOL_SIZE",
     .type = CRAFT_CONFIG_INT,
     .default_value = "0",
     .min = 0,
     .max = 256,
     .offset = CACHE_FIELD(pool_size),
     .help = "Redis connections, 0 = one per core"},
    {.name = "REDIS_TIMEOUT_MS",
     .type = CRAFT_CONFIG_INT,
     .default_value = "250",
     .min = 10,
     .max = 10000,
     .offset = CACHE_FIELD(timeout_ms),
     .help = "Redis connect and command timeout"},
};

static struct craft_redis_stats redis_stats(void *pool)
{
	struct craft_redis_stats st;
	craft_redis_pool_stats(pool, &st);
	return st;
}
static double redis_up(void *ctx)
{
	return redis_stats(ctx).circuit == CRAFT_CIRCUIT_CLOSED ? 1 : 0;
}
static double redis_commands(void *ctx)
{
	return (double)redis_stats(ctx).commands;
}
static double redis_failures(void *ctx)
{
	return (double)redis_stats(ctx).failures;
}
static double redis_rejected(void *ctx)
{
	return (double)redis_stats(ctx).rejected;
}
static double redis_size(void *ctx)
{
	return redis_stats(ctx).size;
}
static double redis_in_use(void *ctx)
{
	return redis_stats(ctx).in_use;
}
static double redis_timeouts(void *ctx)
{
	return (double)redis_stats(ctx).timeouts;
}
static double redis_acquire_timeouts(void *ctx)
{
	return (double)redis_stats(ctx).acquire_timeouts;
}
static double redis_reconnects(void *ctx)
{
	return (double)redis_stats(ctx).reconnects;
}

int craft_service_open_cache(struct craft_service *svc, struct craft_cache_config *cfg,
			     const struct craft_redis_script *scripts, size_t nscripts,
			     craft_redis_pool **out, char *err, size_t err_len)
{
	memset(cfg, 0, sizeof(*cfg));
	int rc = craft_config_load(cache_fields, CRAFT_ARRAY_LEN(cache_fields), cfg, NULL, NULL,
				   svc->config.development, err, err_len);
	if (rc)
		return rc;
	long cores = sysconf(_SC_NPROCESSORS_ONLN);
	struct craft_redis_options opts = {
	    .host = cfg->host,
	    .port = (unsigned)cfg->port,
	    .password = cfg->password,
	    .size = (unsigned)(cfg->pool_size ? cfg->pool_size : (cores > 0 ? cores : 2)),
	    .connect_timeout_ms = (unsigned)cfg->timeout_ms,
	    .command_timeout_ms = (unsigned)cfg->timeout_ms,
	    .tracer = svc->tracer,
	    .watch_restarts = true,
	};
	rc = craft_redis_pool_new(&opts, scripts, nscripts, out);
	if (rc) {
		snprintf(err, err_len,
			 "cannot set up the Redis pool (check REDIS_HOST / REDIS_PORT)");
		return rc;
	}
	craft_metrics_add_gauge(svc->metrics, "craft_redis_up",
				"1 while the Redis circuit is closed", redis_up, *out);
	craft_metrics_add_counter(svc->metrics, "craft_redis_commands_total", "Redis commands sent",
				  redis_commands, *out);
	craft_metrics_add_counter(svc->metrics, "craft_redis_failures_total",
				  "Redis connect failures, timeouts and lost links", redis_failures,
				  *out);
	craft_metrics_add_counter(svc->metrics, "craft_redis_rejected_total",
				  "Redis commands refused while the circuit was open",
				  redis_rejected, *out);
	craft_metrics_add_gauge(svc->metrics, "craft_redis_pool_size", "Redis pool connections",
				redis_size, *out);
	craft_metrics_add_gauge(svc->metrics, "craft_redis_pool_in_use",
				"Redis connections lent out now", redis_in_use, *out);
	craft_metrics_add_counter(svc->metrics, "craft_redis_timeouts_total",
				  "Redis commands that timed out", redis_timeouts, *out);
	craft_metrics_add_counter(svc->metrics, "craft_redis_acquire_timeouts_total",
				  "Waits for a free Redis connection that timed out",
				  redis_acquire_timeouts, *out);
	craft_metrics_add_counter(svc->metrics, "craft_redis_reconnects_total",
				  "Redis connections opened again", redis_reconnects, *out);
	return CRAFT_OK;
}

void craft_service_close_cache(struct craft_cache_config *cfg, craft_redis_pool *pool)
{
	craft_redis_pool_free(pool);
	craft_config_free(cache_fields, CRAFT_ARRAY_LEN(cache_fields), cfg);
}

#define JWKS_FIELD(member) offsetof(struct craft_jwks_config, member)

static const struct craft_config_field jwks_fields[] = {
    {.name = "AUTH_SERVICE_URL",
     .type = CRAFT_CONFIG_STR,
     .default_value = "http://localhost:8082",
     .min = 1,
     .max = 1024,
     .offset = JWKS_FIELD(auth_url),
     .help = "auth service base URL"},
    {.name = "JWKS_URL",
     .type = CRAFT_CONFIG_STR,
     .default_value = "",
     .max = 1024,
     .offset = JWKS_FIELD(jwks_url),
     .help = "JWK set to verify tokens with; default AUTH_SERVICE_URL/.well-known/jwks.json"},
    {.name = "JWT_ISSUER",
     .type = CRAFT_CONFIG_STR,
     .default_value = "",
     .max = 1024,
     .offset = JWKS_FIELD(issuer),
     .help = "required iss claim; empty = not checked"},
    {.name = "JWT_AUDIENCE",
     .type = CRAFT_CONFIG_STR,
     .default_value = "",
     .max = 256,
     .offset = JWKS_FIELD(audience),
     .help = "required aud claim; empty = not checked"},
    {.name = "JWKS_REFRESH_SECONDS",
     .type = CRAFT_CONFIG_INT,
     .default_value = "300",
     .min = 1,
     .max = 86400,
     .offset = JWKS_FIELD(refresh_s),
     .help = "periodic JWK set refresh"},
    {.name = "JWKS_MIN_REFETCH_MS",
     .type = CRAFT_CONFIG_INT,
     .default_value = "10000",
     .min = 100,
     .max = 600000,
     .offset = JWKS_FIELD(min_refetch_ms),
     .help = "least time between fetches caused by unknown key ids"},
};

static double jwks_keys(void *ctx)
{
	struct craft_jwks_cache_stats st;
	craft_jwks_cache_stats(ctx, &st);
	return st.keys;
}

static double jwks_failures(void *ctx)
{
	struct craft_jwks_cache_stats st;
	craft_jwks_cache_stats(ctx, &st);
	return (double)st.fetch_failures;
}

static double jwks_verified_hits(void *ctx)
{
	struct craft_jwks_cache_stats st;
	craft_jwks_cache_stats(ctx, &st);
	return (double)st.verified_hits;
}

static struct craft_httpc_stats httpc_stats(void *client)
{
	struct craft_httpc_stats st;
	craft_httpc_stats(client, &st);
	return st;
}
static double httpc_requests(void *ctx)
{
	return (double)httpc_stats(ctx).requests;
}
static double httpc_failures(void *ctx)
{
	return (double)httpc_stats(ctx).failures;
}
static double httpc_timeouts(void *ctx)
{
	return (double)httpc_stats(ctx).timeouts;
}
static double httpc_in_use(void *ctx)
{
	return httpc_stats(ctx).in_use;
}

/* The outbound HTTP calls of the client a service verifies tokens with (the
 * frontend's and product's only client). */
static void watch_http_client(struct craft_service *svc, craft_httpc *http)
{
	craft_metrics_add_counter(svc->metrics, "craft_http_client_requests_total",
				  "Outbound HTTP calls made", httpc_requests, http);
	craft_metrics_add_counter(svc->metrics, "craft_http_client_failures_total",
				  "Outbound HTTP calls without an answer", httpc_failures, http);
	craft_metrics_add_counter(svc->metrics, "craft_http_client_timeouts_total",
				  "Outbound HTTP calls that timed out", httpc_timeouts, http);
	craft_metrics_add_gauge(svc->metrics, "craft_http_client_in_use",
				"Outbound HTTP transfers running now", httpc_in_use, http);
}

int craft_service_open_jwks(struct craft_service *svc, struct craft_jwks_config *cfg,
			    craft_httpc *http, craft_jwks_cache **out, char *err, size_t err_len)
{
	memset(cfg, 0, sizeof(*cfg));
	int rc = craft_config_load(jwks_fields, CRAFT_ARRAY_LEN(jwks_fields), cfg, NULL, NULL,
				   svc->config.development, err, err_len);
	if (rc)
		return rc;
	char url[1200];
	if (cfg->jwks_url[0]) {
		snprintf(url, sizeof(url), "%s", cfg->jwks_url);
	} else {
		size_t n = strlen(cfg->auth_url);
		while (n > 0 && cfg->auth_url[n - 1] == '/')
			n--;
		snprintf(url, sizeof(url), "%.*s/.well-known/jwks.json", (int)n, cfg->auth_url);
	}
	struct craft_jwks_cache_options jo = {
	    .url = url,
	    .http = http,
	    .refresh_s = (unsigned)cfg->refresh_s,
	    .min_refetch_ms = (unsigned)cfg->min_refetch_ms,
	    .verify = {.issuer = cfg->issuer, .audience = cfg->audience, .leeway_s = 30},
	};
	if ((rc = craft_jwks_cache_new(&jo, out))) {
		snprintf(err, err_len, "cannot start the JWK set refresher");
		return rc;
	}
	craft_metrics_add_gauge(svc->metrics, "craft_jwks_keys", "Keys in the cached JWK set",
				jwks_keys, *out);
	craft_metrics_add_counter(svc->metrics, "craft_jwks_fetch_failures_total",
				  "Failed JWK set fetches", jwks_failures, *out);
	craft_metrics_add_counter(svc->metrics, "craft_jwks_verified_hits_total",
				  "Tokens accepted again without the RSA check (same key set, "
				  "not expired)",
				  jwks_verified_hits, *out);
	watch_http_client(svc, http);
	return CRAFT_OK;
}

void craft_service_close_jwks(struct craft_jwks_config *cfg, craft_jwks_cache *cache)
{
	craft_jwks_cache_free(cache);
	craft_config_free(jwks_fields, CRAFT_ARRAY_LEN(jwks_fields), cfg);
}
