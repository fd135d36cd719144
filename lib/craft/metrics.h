/* metrics.h - Prometheus text exposition (format 0.0.4) for a service's /metrics.
 *
 * One craft_metrics per service holds:
 *  - craft_http_requests_total (counter) and craft_http_request_duration_seconds
 *    (histogram) labelled by method, route pattern and status code;
 *  - gauges and counters registered by name whose value is read through a callback
 *    at scrape time (pool sizes, cache hits, ...);
 *  - process metrics read from /proc and getrusage() at scrape time;
 *  - craft_service_info{service="..."} 1.
 *
 * Recording a request is lock-free once its series exists: series are found in a
 * fixed hash table and updated with atomic increments; the mutex is taken only to
 * create a series. The number of series is bounded (see the limits below), so label
 * values from clients cannot grow memory. All functions are thread-safe.
 * See docs/metrics.md.
 */
#ifndef CRAFT_METRICS_H
#define CRAFT_METRICS_H

#include "buf.h"

#define CRAFT_METRICS_MAX_SERIES 512 /* (method, route, status) series */
#define CRAFT_METRICS_MAX_OTHER  64  /* then (method, "other", status) series */
#define CRAFT_METRICS_ROUTE_MAX  128 /* route labels of this many bytes or more are "other" */
#define CRAFT_METRICS_MAX_CUSTOM 64  /* callback gauges and counters */
#define CRAFT_METRICS_NAME_MAX   128 /* bytes of a metric name */
#define CRAFT_METRICS_HELP_MAX   512 /* bytes of a help text */

typedef struct craft_metrics craft_metrics;

/* Reads a metric's current value at scrape time. Called from craft_metrics_render()
 * on the scraping thread, possibly from several scrapes at once; it must be quick
 * and must not call craft_metrics_add_*() on the same object. */
typedef double (*craft_metric_read)(void *ctx);

/* A new, empty registry for the service `service_name` (copied; NULL means "craft").
 * Records the process start time. Never returns NULL (aborts on out of memory).
 * Free with craft_metrics_free(). */
craft_metrics *craft_metrics_new(const char *service_name);

/* Free the registry; NULL does nothing. No other call may be running on it. */
void craft_metrics_free(craft_metrics *m);

/* Count one finished request and its latency in seconds. `method` is the request
 * method (anything but GET HEAD POST PUT DELETE PATCH OPTIONS CONNECT TRACE is
 * recorded as "OTHER"); `route` is the matched route pattern, not the raw path (NULL
 * is recorded as "unmatched"); `status` is the response status code. Negative or NaN
 * durations count as 0. Once CRAFT_METRICS_MAX_SERIES series exist, new combinations
 * are recorded with route="other"; once CRAFT_METRICS_MAX_OTHER of those exist too,
 * with method="OTHER", route="other", status="0". Never fails. */
void craft_metrics_observe_request(craft_metrics *m, const char *method, const char *route,
				   int status, double seconds);

/* Register a gauge or counter called `name` (Prometheus syntax [a-zA-Z_:][a-zA-Z0-9_:]*,
 * counters should end in "_total") with a one-line `help` (may be NULL), whose value is
 * read(ctx) at each scrape. `ctx` is not owned and must outlive the registry.
 * Returns 0; CRAFT_EINVAL for a bad name, a help text over CRAFT_METRICS_HELP_MAX bytes
 * or a NULL read; CRAFT_ECONFLICT when the name is taken (also by a built-in metric);
 * CRAFT_ETOOBIG past CRAFT_METRICS_MAX_CUSTOM metrics. */
int craft_metrics_add_gauge(craft_metrics *m, const char *name, const char *help,
			    craft_metric_read read, void *ctx);
int craft_metrics_add_counter(craft_metrics *m, const char *name, const char *help,
			      craft_metric_read read, void *ctx);

/* One figure of a collector: its name, help and kind. */
enum craft_metric_kind { CRAFT_METRIC_GAUGE, CRAFT_METRIC_COUNTER };
struct craft_metric_desc {
	const char *name;
	const char *help;
	enum craft_metric_kind kind;
};

/* Fills values[i] for each of the collector's n figures, in the order of its
 * descriptions; called once per scrape (same rules as craft_metric_read). */
typedef void (*craft_metrics_collect)(void *ctx, double *values);

/* Register `n` figures read together by one call of collect(ctx) at each
 * scrape: how a module (a pool, a client, the exporter) reports what one
 * snapshot of its statistics holds. Names and help texts are copied; `ctx` is
 * not owned and must outlive the registry. The names are checked as by
 * craft_metrics_add_gauge();
 * on any failure nothing is registered. Returns the same results. */
int craft_metrics_add_collector(craft_metrics *m, const struct craft_metric_desc *descs, size_t n,
				craft_metrics_collect collect, void *ctx);

/* Append the whole exposition to `out` (serve it as
 * "text/plain; version=0.0.4; charset=utf-8"). Returns 0, or CRAFT_ETOOBIG with
 * `out` restored to its length before the call. */
int craft_metrics_render(craft_metrics *m, craft_buf *out);

#endif
