/* service.h - the service core: what every service has besides its own
 * routes: the common settings, logging/tracing/metrics set-up, the common
 * routes (a human home page at `/`, `/health`, `/metrics` and the home
 * page's stylesheet, tried after the service's own), the dependency
 * checks of /health, and the run loop (start, wait for SIGTERM/SIGINT,
 * drain, stop).
 *
 * The core knows no dependency: a service that uses PostgreSQL, Redis or
 * auth's JWK set includes the opener of that dependency (service_pg.h,
 * service_redis.h, service_jwks.h), which reads its settings, builds it,
 * registers its figures for /metrics and its check for /health, and links
 * only that client library into the binary.
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
#include "metrics.h"
#include "otlp.h"
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

/* A dependency check an opener registers (craft_service_add_check()): true
 * when the dependency can serve; else false with the reason in `reason`
 * (NUL-terminated, no secrets). Runs on the /health request's thread. */
typedef bool (*craft_dependency_check)(void *ctx, craft_req *req, char *reason, size_t reason_len);

#define CRAFT_SERVICE_MAX_CHECKS 8

struct craft_service_check {
	const char *name; /* member of "checks": "database" */
	craft_dependency_check check;
	void *ctx;
};

struct craft_service {
	const char *name;        /* "recommendation" */
	const char *title;       /* "Recommendation service" */
	const char *description; /* one sentence for the home page */
	const struct craft_service_link *links;
	size_t nlinks;
	craft_health_check health; /* the service's own checks, after the openers' */
	/* filled by craft_service_init() and the openers */
	struct craft_service_config config;
	struct craft_sysinfo sysinfo;
	craft_tracer *tracer;
	craft_otlp *otlp; /* span exporter, NULL without an endpoint */
	craft_metrics *metrics;
	craft_template *home;
	time_t started;
	struct craft_service_check checks[CRAFT_SERVICE_MAX_CHECKS];
	size_t nchecks;
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

/* Register a dependency check for /health, run in registration order before
 * svc->health: it sets checks[name] to "up" or "down"; a down check makes
 * /health answer 503 and puts its reason in the body's "reasons" object.
 * `name` and `ctx` must outlive the service. Returns 0, or CRAFT_ETOOBIG past
 * CRAFT_SERVICE_MAX_CHECKS. */
int craft_service_add_check(struct craft_service *svc, const char *name,
			    craft_dependency_check check, void *ctx);

/* Release what craft_service_init() made. */
void craft_service_cleanup(struct craft_service *svc);

/* What a service's main() hands to craft_service_main(). */
struct craft_service_def {
	long default_port; /* PORT when unset */
	/* where the core serves the home page; NULL = "/" (the frontend, whose
	 * "/" is the shop, names "/about"). /health, /metrics and /service.css
	 * are always served. */
	const char *home_path;
	const struct craft_route *routes; /* the service's own, tried before the common ones */
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

/* Current UTC time as ISO 8601 with milliseconds ("2026-11-25T13:31:32.123Z"). */
void craft_service_timestamp(char out[32]);

#endif
