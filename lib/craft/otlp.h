/* otlp.h - export finished spans to an OpenTelemetry collector over
 * OTLP/HTTP with the JSON encoding (POST <endpoint>/v1/traces).
 *
 * The exporter is the tracer's sink: ending a span only appends it to a
 * bounded queue (a full queue drops the span and counts it), so a slow or
 * absent collector never slows or fails a request. A background thread sends
 * batches every `schedule_delay_ms` or as soon as a batch is full, each POST
 * bounded by `timeout_ms`; a retryable failure (no answer, 429, 502-504) is
 * tried again with backoff or after Retry-After, then the batch is dropped
 * and counted. Exports
 * never create spans of their own. Only sampled spans are exported.
 */
#ifndef CRAFT_OTLP_H
#define CRAFT_OTLP_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "trace.h"

typedef struct craft_otlp craft_otlp;

struct craft_otlp_options {
	const char *endpoint;            /* base URL, e.g. http://collector:4318 (+ /v1/traces) */
	const char *traces_endpoint;     /* the whole URL, used as is; wins over endpoint */
	const char *headers;             /* "k=v,k=v" (percent-encoded) sent with every POST */
	bool gzip;                       /* compress the bodies (Content-Encoding: gzip) */
	unsigned max_queue;              /* spans waiting; 0 = 2048 (OTEL_BSP_MAX_QUEUE_SIZE) */
	unsigned max_batch;              /* spans per POST; 0 = 512 */
	unsigned schedule_delay_ms;      /* 0 = 1000 (OTEL_BSP_SCHEDULE_DELAY) */
	unsigned timeout_ms;             /* per POST; 0 = 10000 (OTEL_EXPORTER_OTLP_TIMEOUT) */
	const char *resource_attributes; /* OTEL_RESOURCE_ATTRIBUTES; NULL or "" = none */
	bool service_name_set;           /* OTEL_SERVICE_NAME was given: it names the service */
};

/* curl_global_init, once per process, checking that libcurl speaks HTTP.
 * Call it from start-up before threads are started (the service core does);
 * the exporter and craft_httpc_new() need it. Returns 0 or CRAFT_EINTERNAL. */
int craft_curl_global_init(void);

/* Start an exporter for `tracer` and make it the tracer's sink. Returns 0 and
 * *out, or CRAFT_EINVAL (no endpoint, or headers that are not a list of
 * key=value pairs) / CRAFT_EIO (thread or libcurl). */
int craft_otlp_start(craft_tracer *tracer, const struct craft_otlp_options *opts, craft_otlp **out);

/* Send what is queued within 2 s at most (no retry; what is left is dropped
 * and counted), stop the thread, free.
 * Call after the server has stopped; NULL is fine. */
void craft_otlp_stop(craft_otlp *exporter);

struct craft_otlp_stats {
	unsigned long exported, dropped, failed_batches;
	unsigned long retries; /* POSTs tried again after a retryable failure */
	unsigned queued;
};
void craft_otlp_stats(craft_otlp *exporter, struct craft_otlp_stats *out);

/* The resource's attributes as an OTLP key-value array (a new reference):
 * the pairs of `resource_attributes` (W3C-baggage-like "k=v,k=v" with
 * percent-encoded values; an invalid list is ignored whole), then ours where
 * the list did not give them: service.name (the tracer's when
 * `service_name_set`, else the list's if any), service.version,
 * service.instance.id (`instance_id`), deployment.environment.name; and
 * telemetry.sdk.name/language/version always. *bad is set when the list was
 * invalid (may be NULL). */
json_t *craft_otlp_resource(const craft_tracer *tracer, const char *resource_attributes,
			    bool service_name_set, const char *instance_id, bool *bad);

/* The ExportTraceServiceRequest for `count` spans under `resource` (borrowed),
 * as OTLP/JSON (hex ids, int64 as strings). Text that is not valid UTF-8 is
 * repaired (U+FFFD), never dropped. *encoded says how many spans are in it
 * (fewer than count only when out of memory). A new reference. Exposed for
 * tests. */
json_t *craft_otlp_encode(json_t *resource, craft_span *const *spans, size_t count,
			  size_t *encoded);

#endif
