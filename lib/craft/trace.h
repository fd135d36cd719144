/* trace.h - W3C trace context and the span seam.
 *
 * Every server request, outbound HTTP call, PostgreSQL query and Redis
 * command runs inside a craft_span. A span always has real ids (so logs can
 * carry trace_id/span_id); what happens when it ends is the tracer's business:
 * with no exporter attached it is simply freed, with one it is queued for
 * export (OTLP, off the request path). Services never talk to the exporter.
 *
 * Spans are heap objects owned by whoever started them until craft_span_end(),
 * which takes ownership. All functions accept a NULL span and do nothing, so
 * code paths without tracing need no conditionals.
 */
#ifndef CRAFT_TRACE_H
#define CRAFT_TRACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CRAFT_TRACEPARENT_LEN 55  /* "00-" 32 hex "-" 16 hex "-" 2 hex */
#define CRAFT_TRACESTATE_MAX  512 /* W3C: at least 512 chars must be propagated */
#define CRAFT_TRACE_ID_HEX    33  /* 32 hex digits + NUL */
#define CRAFT_SPAN_ID_HEX     17  /* 16 hex digits + NUL */

typedef struct craft_trace_ctx {
	uint8_t trace_id[16];
	uint8_t span_id[8];
	uint8_t flags;                             /* bit 0: sampled */
	char tracestate[CRAFT_TRACESTATE_MAX + 1]; /* "" when absent */
} craft_trace_ctx;

/* Parse a `traceparent` header value of `len` bytes (W3C Trace Context level 1:
 * version 00 exactly; higher versions are read by their first four fields).
 * Returns 0, or CRAFT_EINVAL for anything malformed, including all-zero ids
 * and version ff. On success the ids and flags are set and ctx->tracestate is
 * cleared (parse `tracestate` afterwards); on error *out is untouched. */
int craft_traceparent_parse(const char *value, size_t len, craft_trace_ctx *out);

/* Write "00-<trace>-<span>-<flags>" and a NUL into out (56 bytes). */
void craft_traceparent_format(const craft_trace_ctx *ctx, char out[CRAFT_TRACEPARENT_LEN + 1]);

/* Copy a `tracestate` header into ctx->tracestate if it is well formed
 * (list-members of key=value, at most 32, unique keys, within
 * CRAFT_TRACESTATE_MAX bytes); otherwise leave it empty. Empty members and
 * optional white space around members are dropped from the stored copy.
 * Returns 0 or CRAFT_EINVAL. */
int craft_tracestate_parse(const char *value, size_t len, craft_trace_ctx *ctx);

/* Fill with random non-zero ids from the CSPRNG (drawn a block at a time
 * into a per-thread pool; a forked child drops its inherited pool). */
void craft_trace_new_trace_id(uint8_t id[16]);
void craft_trace_new_span_id(uint8_t id[8]);

/* Lower-case hex of ids, NUL-terminated. */
void craft_trace_id_hex(const uint8_t id[16], char out[CRAFT_TRACE_ID_HEX]);
void craft_span_id_hex(const uint8_t id[8], char out[CRAFT_SPAN_ID_HEX]);

enum craft_span_kind {
	CRAFT_SPAN_INTERNAL = 1,
	CRAFT_SPAN_SERVER = 2,
	CRAFT_SPAN_CLIENT = 3,
	CRAFT_SPAN_PRODUCER = 4,
	CRAFT_SPAN_CONSUMER = 5,
};

typedef struct craft_span craft_span;
typedef struct craft_tracer craft_tracer;

/* What a tracer does with a finished span; the exporter takes ownership and
 * must eventually call craft_span_free(). NULL sink: spans are freed at end. */
typedef void (*craft_span_sink)(void *sink_ctx, craft_span *span);

/* A tracer for one service. The strings are copied (NULL name: "unknown_service",
 * NULL version or environment: ""). Never returns NULL. Free with
 * craft_tracer_free() after every span has ended; NULL is fine. */
craft_tracer *craft_tracer_new(const char *service_name, const char *service_version,
			       const char *environment);
void craft_tracer_free(craft_tracer *tracer);

/* True when `span` will reach an exporter (sampled, and its tracer has a
 * sink): hot paths skip building attributes nobody will read. */
bool craft_span_recording(const craft_span *span);

/* Stop exporting `span` (and every span started under it from now on), e.g.
 * for health probes, which must not flood the collector. NULL is fine. */
void craft_span_unsample(craft_span *span);

/* Choose the sampler during set-up, before any span starts, by the names of
 * the OpenTelemetry SDK environment (OTEL_TRACES_SAMPLER / _ARG):
 * "always_on", "always_off", "traceidratio" (arg: a probability in [0, 1],
 * default 1), and "parentbased_" + each of them, which follow a remote
 * parent's sampled flag and apply the rest to new traces. NULL or "" keeps
 * the default, parentbased_always_on. A span with a local parent always
 * follows it. Returns 0, or CRAFT_EINVAL with the reason in err. */
int craft_tracer_set_sampler(craft_tracer *tracer, const char *name, const char *arg, char *err,
			     size_t err_len);

/* Attach the sink during set-up, before any span starts: the tracer is shared
 * read-only afterwards. The sink is called from whichever thread ends a span,
 * so it must be thread-safe. */
void craft_tracer_set_sink(craft_tracer *tracer, craft_span_sink sink, void *sink_ctx);

/* The strings given to craft_tracer_new(), owned by the tracer (exporters use
 * them as resource attributes). NULL for a NULL tracer. */
const char *craft_tracer_service_name(const craft_tracer *tracer);
const char *craft_tracer_service_version(const craft_tracer *tracer);
const char *craft_tracer_environment(const craft_tracer *tracer);

/* Start a span. Its parent is `parent` if given, else `remote` (a context read
 * from an incoming traceparent) if given, else it starts a new trace.
 * `name` is copied. Never returns NULL (tracer may be NULL: ids are still made). */
craft_span *craft_span_start(craft_tracer *tracer, const craft_span *parent,
			     const craft_trace_ctx *remote, enum craft_span_kind kind,
			     const char *name);

#define CRAFT_SPAN_ATTR_MAX 32   /* attributes per span */
#define CRAFT_SPAN_TEXT_MAX 1024 /* bytes kept of a name, string value or error */

/* Attributes (OpenTelemetry semantic conventions: "http.request.method",
 * "url.path", "http.response.status_code", "db.system", ...). Keys and
 * values are copied; at most 32 attributes, extra ones are dropped. Setting
 * a key again replaces its value. A NULL key or string value is ignored;
 * longer texts are cut to CRAFT_SPAN_TEXT_MAX bytes on a UTF-8 boundary. */
void craft_span_set_str(craft_span *span, const char *key, const char *value);
void craft_span_set_int(craft_span *span, const char *key, int64_t value);
/* No service sets a boolean attribute yet; OTLP has the type, and the tests
 * of the encoder use it. */
void craft_span_set_bool(craft_span *span, const char *key, bool value);

/* Rename (e.g. once the route is known: "GET /api/products/{id}"). */
void craft_span_set_name(craft_span *span, const char *name);

/* Mark the span failed with a short description. */
void craft_span_set_error(craft_span *span, const char *message);

/* The span's own context (trace id, its span id, flags, tracestate), e.g. to
 * send downstream with craft_traceparent_format(). NULL for a NULL span. */
const craft_trace_ctx *craft_span_context(const craft_span *span);

/* Record the end time and hand the span to the tracer's sink (or free it). */
void craft_span_end(craft_span *span);

/* Release a span without ending it again (for sinks). NULL is fine. */
void craft_span_free(craft_span *span);

/* Read access for exporters. */
struct craft_span_attr {
	const char *key;
	enum { CRAFT_ATTR_STR, CRAFT_ATTR_INT, CRAFT_ATTR_BOOL } type;
	const char *str;
	int64_t num;
};
const char *craft_span_name(const craft_span *span);
enum craft_span_kind craft_span_kind_of(const craft_span *span);
const uint8_t *craft_span_parent_id(const craft_span *span); /* NULL for a root span */
uint64_t craft_span_start_ns(const craft_span *span);        /* unix epoch ns */
uint64_t craft_span_end_ns(const craft_span *span);
size_t craft_span_attr_count(const craft_span *span);
const struct craft_span_attr *craft_span_attr_at(const craft_span *span, size_t index);
const char *craft_span_error(const craft_span *span);          /* NULL when OK */
const craft_tracer *craft_span_tracer(const craft_span *span); /* for tests */

#endif
