#include "otlp.h"

#include "common.h"
#include "log.h"

#include <curl/curl.h>
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define DEFAULT_QUEUE   2048u
#define DEFAULT_BATCH   512u
#define DEFAULT_DELAY   1000u
#define DEFAULT_TIMEOUT 2000u

struct craft_otlp {
	craft_tracer *tracer;
	struct craft_otlp_options o;
	char *url;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	craft_span **ring;
	unsigned head, count;
	bool stopping;
	unsigned long exported, dropped, failed;
	bool failing; /* the last POST failed: log only changes */
	pthread_t thread;
	CURL *curl; /* used by the export thread only */
};

/* ---- encoding ---- */

static json_t *kv_string(const char *key, const char *value)
{
	return json_pack("{s:s, s:{s:s}}", "key", key, "value", "stringValue", value);
}

static json_t *attributes(const craft_span *span)
{
	json_t *out = json_array();
	size_t n = craft_span_attr_count(span);
	for (size_t i = 0; i < n; i++) {
		const struct craft_span_attr *a = craft_span_attr_at(span, i);
		json_t *value;
		char num[24];
		switch (a->type) {
		case CRAFT_ATTR_INT:
			snprintf(num, sizeof(num), "%lld", (long long)a->num);
			value = json_pack("{s:s}", "intValue", num);
			break;
		case CRAFT_ATTR_BOOL: value = json_pack("{s:b}", "boolValue", a->num != 0); break;
		default: value = json_pack("{s:s}", "stringValue", a->str ? a->str : ""); break;
		}
		json_array_append_new(out, json_pack("{s:s, s:o}", "key", a->key, "value", value));
	}
	return out;
}

static json_t *encode_span(craft_span *span)
{
	const craft_trace_ctx *ctx = craft_span_context(span);
	char trace_id[CRAFT_TRACE_ID_HEX], span_id[CRAFT_SPAN_ID_HEX];
	char start[24], end[24];
	craft_trace_id_hex(ctx->trace_id, trace_id);
	craft_span_id_hex(ctx->span_id, span_id);
	snprintf(start, sizeof(start), "%llu", (unsigned long long)craft_span_start_ns(span));
	snprintf(end, sizeof(end), "%llu", (unsigned long long)craft_span_end_ns(span));
	const char *error = craft_span_error(span);
	json_t *j = json_pack("{s:s, s:s, s:s, s:i, s:s, s:s, s:o, s:o}", "traceId", trace_id,
			      "spanId", span_id, "name", craft_span_name(span), "kind",
			      (int)craft_span_kind_of(span), "startTimeUnixNano", start,
			      "endTimeUnixNano", end, "attributes", attributes(span), "status",
			      error ? json_pack("{s:i, s:s}", "code", 2, "message", error)
				    : json_pack("{s:i}", "code", 0));
	const uint8_t *parent = craft_span_parent_id(span);
	if (parent) {
		char parent_id[CRAFT_SPAN_ID_HEX];
		craft_span_id_hex(parent, parent_id);
		json_object_set_new(j, "parentSpanId", json_string(parent_id));
	}
	if (ctx->tracestate[0])
		json_object_set_new(j, "traceState", json_string(ctx->tracestate));
	return j;
}

json_t *craft_otlp_encode(const craft_tracer *tracer, craft_span *const *spans, size_t count)
{
	const char *name = craft_tracer_service_name(tracer);
	const char *version = craft_tracer_service_version(tracer);
	const char *env = craft_tracer_environment(tracer);
	json_t *resource = json_array();
	json_array_append_new(resource, kv_string("service.name", name ? name : "unknown_service"));
	if (version)
		json_array_append_new(resource, kv_string("service.version", version));
	if (env)
		json_array_append_new(resource, kv_string("deployment.environment", env));
	json_array_append_new(resource, kv_string("telemetry.sdk.language", "c"));
	json_array_append_new(resource, kv_string("telemetry.sdk.name", "craft"));
	json_t *list = json_array();
	for (size_t i = 0; i < count; i++)
		json_array_append_new(list, encode_span(spans[i]));
	return json_pack("{s:[{s:{s:o}, s:[{s:{s:s, s:s}, s:o}]}]}", "resourceSpans", "resource",
			 "attributes", resource, "scopeSpans", "scope", "name", "craft", "version",
			 CRAFT_VERSION, "spans", list);
}

/* ---- the queue (request threads) ---- */

static void sink(void *ctx, craft_span *span)
{
	craft_otlp *e = ctx;
	if (!(craft_span_context(span)->flags & 1)) {
		craft_span_free(span); /* not sampled */
		return;
	}
	pthread_mutex_lock(&e->lock);
	if (e->count == e->o.max_queue || e->stopping) {
		e->dropped++;
		pthread_mutex_unlock(&e->lock);
		craft_span_free(span);
		return;
	}
	e->ring[(e->head + e->count) % e->o.max_queue] = span;
	e->count++;
	if (e->count >= e->o.max_batch)
		pthread_cond_signal(&e->wake);
	pthread_mutex_unlock(&e->lock);
}

/* ---- export (the exporter's thread) ---- */

static size_t discard(char *data, size_t size, size_t n, void *ctx)
{
	(void)data;
	(void)ctx;
	return size * n;
}

static bool post(craft_otlp *e, const char *body, size_t len, long *status)
{
	struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
	curl_easy_setopt(e->curl, CURLOPT_URL, e->url);
	curl_easy_setopt(e->curl, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(e->curl, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(e->curl, CURLOPT_POSTFIELDSIZE, (long)len);
	curl_easy_setopt(e->curl, CURLOPT_TIMEOUT_MS, (long)e->o.timeout_ms);
	curl_easy_setopt(e->curl, CURLOPT_CONNECTTIMEOUT_MS, (long)e->o.timeout_ms);
	curl_easy_setopt(e->curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e->curl, CURLOPT_WRITEFUNCTION, discard);
	curl_easy_setopt(e->curl, CURLOPT_PROTOCOLS_STR, "http,https");
	CURLcode rc = curl_easy_perform(e->curl);
	curl_slist_free_all(h);
	*status = 0;
	if (rc == CURLE_OK)
		curl_easy_getinfo(e->curl, CURLINFO_RESPONSE_CODE, status);
	return rc == CURLE_OK && *status >= 200 && *status < 300;
}

static void export_batch(craft_otlp *e, craft_span **batch, size_t n)
{
	json_t *doc = craft_otlp_encode(e->tracer, batch, n);
	char *body = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
	json_decref(doc);
	for (size_t i = 0; i < n; i++)
		craft_span_free(batch[i]);
	long status = 0;
	bool ok = body && post(e, body, strlen(body), &status);
	free(body);
	pthread_mutex_lock(&e->lock);
	bool was_failing = e->failing;
	e->failing = !ok;
	if (ok)
		e->exported += n;
	else
		e->failed++, e->dropped += n;
	pthread_mutex_unlock(&e->lock);
	if (!ok && !was_failing)
		craft_log(CRAFT_LOG_WARN, NULL, "span export failing; spans are dropped meanwhile",
			  "{s:s, s:i}", "endpoint", e->url, "status", (int)status);
	else if (ok && was_failing)
		craft_log(CRAFT_LOG_INFO, NULL, "span export works again", "{s:s}", "endpoint",
			  e->url);
}

/* Take up to max_batch spans off the queue (lock held). */
static size_t take(craft_otlp *e, craft_span **batch)
{
	size_t n = 0;
	while (e->count > 0 && n < e->o.max_batch) {
		batch[n++] = e->ring[e->head];
		e->head = (e->head + 1) % e->o.max_queue;
		e->count--;
	}
	return n;
}

static void deadline_in(struct timespec *ts, unsigned ms)
{
	clock_gettime(CLOCK_REALTIME, ts);
	ts->tv_sec += ms / 1000;
	ts->tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}

static void *exporter(void *arg)
{
	craft_otlp *e = arg;
	craft_span **batch = craft_xcalloc(e->o.max_batch, sizeof(*batch));
	pthread_mutex_lock(&e->lock);
	for (;;) {
		if (!e->stopping && e->count < e->o.max_batch) {
			struct timespec until;
			deadline_in(&until, e->o.schedule_delay_ms);
			pthread_cond_timedwait(&e->wake, &e->lock, &until);
		}
		size_t n = take(e, batch);
		bool stop = e->stopping && e->count == 0;
		pthread_mutex_unlock(&e->lock);
		if (n)
			export_batch(e, batch, n);
		pthread_mutex_lock(&e->lock);
		if (stop && e->count == 0)
			break;
	}
	pthread_mutex_unlock(&e->lock);
	free(batch);
	return NULL;
}

int craft_otlp_start(craft_tracer *tracer, const struct craft_otlp_options *opts, craft_otlp **out)
{
	if (!opts->endpoint || !opts->endpoint[0])
		return CRAFT_EINVAL;
	craft_otlp *e = craft_xcalloc(1, sizeof(*e));
	e->tracer = tracer;
	e->o = *opts;
	e->o.max_queue = opts->max_queue ? opts->max_queue : DEFAULT_QUEUE;
	e->o.max_batch = opts->max_batch ? opts->max_batch : DEFAULT_BATCH;
	if (e->o.max_batch > e->o.max_queue)
		e->o.max_batch = e->o.max_queue;
	e->o.schedule_delay_ms = opts->schedule_delay_ms ? opts->schedule_delay_ms : DEFAULT_DELAY;
	e->o.timeout_ms = opts->timeout_ms ? opts->timeout_ms : DEFAULT_TIMEOUT;
	size_t n = strlen(opts->endpoint);
	while (n > 0 && opts->endpoint[n - 1] == '/')
		n--;
	size_t len = n + sizeof("/v1/traces");
	e->url = craft_xmalloc(len);
	snprintf(e->url, len, "%.*s/v1/traces", (int)n, opts->endpoint);
	e->o.endpoint = NULL;
	e->ring = craft_xcalloc(e->o.max_queue, sizeof(*e->ring));
	pthread_mutex_init(&e->lock, NULL);
	pthread_cond_init(&e->wake, NULL);
	e->curl = curl_easy_init();
	if (!e->curl || pthread_create(&e->thread, NULL, exporter, e) != 0) {
		if (e->curl)
			curl_easy_cleanup(e->curl);
		pthread_cond_destroy(&e->wake);
		pthread_mutex_destroy(&e->lock);
		free(e->ring);
		free(e->url);
		free(e);
		return CRAFT_EIO;
	}
	craft_tracer_set_sink(tracer, sink, e);
	craft_log(CRAFT_LOG_INFO, NULL, "exporting spans", "{s:s}", "endpoint", e->url);
	*out = e;
	return CRAFT_OK;
}

void craft_otlp_stop(craft_otlp *e)
{
	if (!e)
		return;
	pthread_mutex_lock(&e->lock);
	e->stopping = true;
	pthread_cond_signal(&e->wake);
	pthread_mutex_unlock(&e->lock);
	pthread_join(e->thread, NULL);
	craft_tracer_set_sink(e->tracer, NULL, NULL);
	curl_easy_cleanup(e->curl);
	pthread_cond_destroy(&e->wake);
	pthread_mutex_destroy(&e->lock);
	free(e->ring);
	free(e->url);
	free(e);
}

void craft_otlp_stats(craft_otlp *e, struct craft_otlp_stats *out)
{
	pthread_mutex_lock(&e->lock);
	*out = (struct craft_otlp_stats){.exported = e->exported,
					 .dropped = e->dropped,
					 .failed_batches = e->failed,
					 .queued = e->count};
	pthread_mutex_unlock(&e->lock);
}
