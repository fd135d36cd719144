/* service.h - what every service has besides its own routes: the common
 * settings, logging/tracing/metrics set-up, a human home page at `/`,
 * `/health`, `/metrics` and the home page's stylesheet, and the run loop
 * (start, wait for SIGTERM/SIGINT, drain, stop).
 *
 * A service's context struct starts with a `struct craft_service` member, so
 * the common handlers find it through req->app:
 *
 *     struct reco_app { struct craft_service svc; craft_pg_pool *pg; ... };
 */
#ifndef CRAFT_SERVICE_H
#define CRAFT_SERVICE_H

#include <stdbool.h>
#include <time.h>

#include <jansson.h>

#include "config.h"
#include "http.h"
#include "httpc.h"
#include "jwks_cache.h"
#include "metrics.h"
#include "otlp.h"
#include "pg.h"
#include "redis.h"
#include "sysinfo.h"
#include "template.h"
#include "trace.h"

/* Settings every service reads (environment variable in brackets). */
struct craft_service_config {
	long port;                            /* PORT */
	const char *host;                     /* HOST, bind address */
	long threads;                         /* THREADS, 0 = number of cores */
	long max_body;                        /* MAX_BODY_BYTES */
	const char *log_level;                /* LOG_LEVEL */
	const char *app_version;              /* APP_VERSION */
	const char *environment;              /* DEPLOYMENT_ENVIRONMENT */
	const char *otel_service_name;        /* OTEL_SERVICE_NAME */
	const char *otel_resource_attributes; /* OTEL_RESOURCE_ATTRIBUTES */
	const char *otel_endpoint;            /* OTEL_EXPORTER_OTLP_ENDPOINT, "" = no export */
	long otel_delay_ms;                   /* OTEL_BSP_SCHEDULE_DELAY */
	long otel_queue;                      /* OTEL_BSP_MAX_QUEUE_SIZE */
	long otel_batch;                      /* OTEL_BSP_MAX_EXPORT_BATCH_SIZE */
	long otel_timeout_ms;                 /* OTEL_EXPORTER_OTLP_TIMEOUT */
	const char *otel_traces_endpoint;     /* OTEL_EXPORTER_OTLP_TRACES_ENDPOINT */
	const char *otel_headers;             /* OTEL_EXPORTER_OTLP_HEADERS */
	const char *otel_traces_headers;      /* OTEL_EXPORTER_OTLP_TRACES_HEADERS */
	const char *otel_compression;         /* OTEL_EXPORTER_OTLP_COMPRESSION */
	const char *otel_traces_compression;  /* OTEL_EXPORTER_OTLP_TRACES_COMPRESSION */
	long otel_traces_timeout_ms;          /* OTEL_EXPORTER_OTLP_TRACES_TIMEOUT, 0 = generic */
	bool otel_disabled;                   /* OTEL_SDK_DISABLED */
	const char *otel_sampler;             /* OTEL_TRACES_SAMPLER */
	const char *otel_sampler_arg;         /* OTEL_TRACES_SAMPLER_ARG */
	bool development;                     /* derived from environment */
};

/* A link on the home page: an API route and what it does. */
struct craft_service_link {
	const char *method;
	const char *path; /* clickable when method is GET and the path has no {param} */
	const char *what;
};

/* Dependency checks for /health: add "name": "up"/"down" members to `checks`
 * (and any other members to `health`), return false when the service cannot
 * serve (then /health answers 503). */
typedef bool (*craft_health_check)(void *app, craft_req *req, json_t *checks, json_t *health);

struct craft_service {
	const char *name;        /* "recommendation" */
	const char *title;       /* "Recommendation service" */
	const char *description; /* one sentence for the home page */
	const struct craft_service_link *links;
	size_t nlinks;
	craft_health_check health;
	/* filled by craft_service_init() */
	struct craft_service_config config;
	struct craft_sysinfo sysinfo;
	craft_tracer *tracer;
	craft_otlp *otlp; /* span exporter, NULL without an endpoint */
	craft_metrics *metrics;
	craft_template *home;
	time_t started;
};

/* Load the common settings (PORT defaulting to `default_port`), set up logging,
 * the tracer and the metrics registry, read system information. The caller
 * fills name/title/description/links/health before. Returns 0, or
 * CRAFT_EINVAL with the reason (naming the variable) in err. */
int craft_service_init(struct craft_service *svc, long default_port, char *err, size_t err_len);

/* Load a service's own settings table (config.h) from the environment, with
 * the development rules of DEPLOYMENT_ENVIRONMENT, and log the effective
 * values (secrets masked). 0 or CRAFT_EINVAL with the reason in err; free
 * with craft_config_free(). */
int craft_service_load_config(struct craft_service *svc, const struct craft_config_field *fields,
			      size_t count, void *target, char *err, size_t err_len);

/* Release what craft_service_init() made. */
void craft_service_cleanup(struct craft_service *svc);

/* What a service's main() hands to craft_service_main(). */
struct craft_service_def {
	long default_port; /* PORT when unset */
	const struct craft_route *routes;
	size_t nroutes;
	craft_authorizer authorizer; /* for routes that name a role; may be NULL */
	craft_handler fallback;      /* GET/HEAD paths no route matches; may be NULL */
	/* Build the service's own dependencies after craft_service_init(); 0 or an
	 * error with the reason in err. May be NULL. */
	int (*setup)(void *app, char *err, size_t err_len);
	/* Release them (also after a failed setup, so it must cope with a partial
	 * one). May be NULL. */
	void (*teardown)(void *app);
};

/* A service process from start to exit: block the stop signals, initialise
 * libcurl, craft_service_init(), setup, serve until SIGTERM/SIGINT (drain
 * and stop), teardown, craft_service_cleanup(). `app` starts with `svc`.
 * Returns the exit status: 0 after a clean stop, 1 when the server cannot
 * start, 2 for a configuration or set-up error (printed on stderr, logged). */
int craft_service_main(struct craft_service *svc, void *app, const struct craft_service_def *def);

/* PostgreSQL settings: DATABASE_URL (a libpq URI) when set, else the
 * POSTGRES_* variables; pool size and timeouts. */
struct craft_db_config {
	const char *database_url;  /* DATABASE_URL */
	const char *host;          /* POSTGRES_HOST */
	long port;                 /* POSTGRES_PORT */
	const char *user;          /* POSTGRES_USER */
	const char *password;      /* POSTGRES_PASSWORD (secret) */
	const char *dbname;        /* POSTGRES_DB */
	long pool_size;            /* PG_POOL_SIZE, 0 = number of cores */
	long acquire_timeout_ms;   /* PG_ACQUIRE_TIMEOUT_MS */
	long statement_timeout_ms; /* PG_STATEMENT_TIMEOUT_MS */
	long connect_timeout_s;    /* PG_CONNECT_TIMEOUT_S */
};

/* Read the PostgreSQL settings and create the pool with `stmts` (it connects
 * lazily, so the database may still be down). Outside development a default
 * POSTGRES_PASSWORD is refused unless DATABASE_URL is set. Returns 0, or
 * CRAFT_EINVAL with the reason in err. */
int craft_service_open_db(struct craft_service *svc, struct craft_db_config *cfg,
			  const struct craft_pg_stmt *stmts, size_t nstmts, craft_pg_pool **out,
			  char *err, size_t err_len);
void craft_service_close_db(struct craft_db_config *cfg, craft_pg_pool *pool);

/* Redis settings: REDIS_HOST, REDIS_PORT, REDIS_POOL_SIZE, REDIS_TIMEOUT_MS. */
struct craft_cache_config {
	const char *host;
	long port;
	const char *password; /* REDIS_PASSWORD, "" = none */
	long pool_size;       /* 0 = number of cores */
	long timeout_ms;
};

/* Read the Redis settings and create the pool with `scripts` (lazily
 * connected; Redis being down is never fatal). Its figures go to /metrics.
 * Returns 0, or CRAFT_EINVAL with the reason in err. */
int craft_service_open_cache(struct craft_service *svc, struct craft_cache_config *cfg,
			     const struct craft_redis_script *scripts, size_t nscripts,
			     craft_redis_pool **out, char *err, size_t err_len);
void craft_service_close_cache(struct craft_cache_config *cfg, craft_redis_pool *pool);

/* Token verification settings: AUTH_SERVICE_URL, JWKS_URL (default
 * AUTH_SERVICE_URL/.well-known/jwks.json), JWT_ISSUER, JWT_AUDIENCE,
 * JWKS_REFRESH_SECONDS, JWKS_MIN_REFETCH_MS. */
struct craft_jwks_config {
	const char *auth_url;
	const char *jwks_url;
	const char *issuer;
	const char *audience;
	long refresh_s;
	long min_refetch_ms;
};

/* Read those settings and start a JWKS cache on `http` (see jwks_cache.h).
 * Returns 0, or CRAFT_EINVAL / CRAFT_EIO with the reason in err. */
int craft_service_open_jwks(struct craft_service *svc, struct craft_jwks_config *cfg,
			    craft_httpc *http, craft_jwks_cache **out, char *err, size_t err_len);
void craft_service_close_jwks(struct craft_jwks_config *cfg, craft_jwks_cache *cache);

/* Reply for a failed PostgreSQL call: 503 with Retry-After when the
 * database is unreachable or timed out, 500 otherwise. */
void craft_service_reply_db_error(craft_req *req, int result);

/* Common handlers for the route table. */
void craft_service_home(craft_req *req);       /* GET / */
void craft_service_health(craft_req *req);     /* GET /health */
void craft_service_metrics(craft_req *req);    /* GET /metrics */
void craft_service_stylesheet(craft_req *req); /* GET /service.css */

/* Current UTC time as ISO 8601 with milliseconds ("2026-11-25T13:31:32.123Z"). */
void craft_service_timestamp(char out[32]);

#endif
