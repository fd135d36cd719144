#include "otlp.h"

#include "clock.h"
#include "common.h"
#include "log.h"
#include "stop.h"
#include "utf8.h"

#include <openssl/rand.h>

#include <curl/curl.h>
#include <zlib.h>
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
#define DEFAULT_TIMEOUT 10000u /* the OpenTelemetry SDK's */
#define STOP_FLUSH_MS   2000u  /* what a stop gives the last batches, at most */

#define MAX_ATTEMPTS      4u
#define BACKOFF_MS        250u
#define BACKOFF_MAX_MS    5000u
#define RETRY_AFTER_MAX_S 30L

struct craft_otlp {
	craft_tracer *tracer;
	struct craft_otlp_options o;
	char *url;
	struct curl_slist *headers; /* Content-Type, Content-Encoding, OTEL_..._HEADERS */
	json_t *resource;           /* built once at start */
	char instance_id[37];
	pthread_mutex_t lock;
	pthread_cond_t wake;
	craft_span **ring;
	unsigned head, count;
	bool stopping;
	uint64_t flush_until_ms; /* once stopping: no POST runs past it (monotonic) */
	unsigned long exported, dropped, failed, retries;
	bool failing; /* the last POST failed: log only changes */
	pthread_t thread;
	CURL *curl; /* used by the export thread only */
};

/* ---- global init ---- */

/* curl_global_init is process-wide by nature: run it exactly once. */
static pthread_once_t global_once = PTHREAD_ONCE_INIT;
static int global_result = CRAFT_EINTERNAL;

static void global_init_once(void)
{
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return;
	const curl_version_info_data *info = curl_version_info(CURLVERSION_NOW);
	for (const char *const *p = info->protocols; p && *p; p++)
		if (strcmp(*p, "http") == 0)
			global_result = CRAFT_OK;
}

int craft_curl_global_init(void)
{
	pthread_once(&global_once, global_init_once);
	return global_result;
}

/* ---- encoding ---- */

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
		default:
			value = json_pack("{s:o}", "stringValue", craft_utf8_json_string(a->str));
			break;
		}
		json_array_append_new(
		    out,
		    json_pack("{s:o, s:o}", "key", craft_utf8_json_string(a->key), "value", value));
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
	json_t *j = json_pack(
	    "{s:s, s:s, s:o, s:i, s:s, s:s, s:o, s:o}", "traceId", trace_id, "spanId", span_id,
	    "name", craft_utf8_json_string(craft_span_name(span)), "kind",
	    (int)craft_span_kind_of(span), "startTimeUnixNano", start, "endTimeUnixNano", end,
	    "attributes", attributes(span), "status",
	    error ? json_pack("{s:i, s:o}", "code", 2, "message", craft_utf8_json_string(error))
		  : json_pack("{s:i}", "code", 0));
	if (!j)
		return NULL;
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

/* Percent-decode [s, s+n) into out (room for n + 1); false on a bad escape
 * or an encoded NUL. */
static bool pct_decode(const char *s, size_t n, char *out)
{
	size_t o = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] != '%') {
			out[o++] = s[i];
			continue;
		}
		int hi = i + 2 < n ? craft_hex_digit(s[i + 1]) : -1;
		int lo = i + 2 < n ? craft_hex_digit(s[i + 2]) : -1;
		if (hi < 0 || lo < 0 || (hi == 0 && lo == 0))
			return false;
		out[o++] = (char)(hi * 16 + lo);
		i += 2;
	}
	out[o] = '\0';
	return true;
}

/* Parse "k=v,k=v" into a JSON object; NULL when any entry is invalid. */
static json_t *parse_pairs(const char *list)
{
	json_t *pairs = json_object();
	const char *p = list;
	while (*p) {
		size_t n = strcspn(p, ",");
		const char *eq = memchr(p, '=', n);
		while (n > 0 && (*p == ' ' || *p == '\t'))
			p++, n--;
		size_t kn = eq ? (size_t)(eq - p) : 0, vn = eq ? n - kn - 1 : 0;
		while (kn > 0 && (p[kn - 1] == ' ' || p[kn - 1] == '\t'))
			kn--;
		const char *v = eq ? eq + 1 : NULL;
		while (v && vn > 0 && (*v == ' ' || *v == '\t'))
			v++, vn--;
		while (v && vn > 0 && (v[vn - 1] == ' ' || v[vn - 1] == '\t'))
			vn--;
		char *key = craft_xmalloc(kn + 1), *val = craft_xmalloc(vn + 1);
		bool ok = eq && kn > 0 && pct_decode(p, kn, key) && pct_decode(v, vn, val) &&
			  json_object_set_new(pairs, key, craft_utf8_json_string(val)) == 0;
		free(key);
		free(val);
		if (!ok) {
			json_decref(pairs);
			return NULL;
		}
		p += n;
		if (*p == ',')
			p++;
	}
	return pairs;
}

json_t *craft_otlp_resource(const craft_tracer *tracer, const char *resource_attributes,
			    bool service_name_set, const char *instance_id, bool *bad)
{
	json_t *given = NULL;
	if (bad)
		*bad = false;
	if (resource_attributes && resource_attributes[0]) {
		given = parse_pairs(resource_attributes);
		if (!given && bad)
			*bad = true;
	}
	if (!given)
		given = json_object();
	const char *name = craft_tracer_service_name(tracer);
	if (service_name_set || !json_object_get(given, "service.name"))
		json_object_set_new(given, "service.name",
				    craft_utf8_json_string(name ? name : "unknown_service"));
	const char *version = craft_tracer_service_version(tracer);
	if (version && !json_object_get(given, "service.version"))
		json_object_set_new(given, "service.version", craft_utf8_json_string(version));
	if (instance_id && !json_object_get(given, "service.instance.id"))
		json_object_set_new(given, "service.instance.id",
				    craft_utf8_json_string(instance_id));
	const char *env = craft_tracer_environment(tracer);
	if (env && !json_object_get(given, "deployment.environment.name"))
		json_object_set_new(given, "deployment.environment.name",
				    craft_utf8_json_string(env));
	json_object_set_new(given, "telemetry.sdk.name", json_string("craft"));
	json_object_set_new(given, "telemetry.sdk.language", json_string("c"));
	json_object_set_new(given, "telemetry.sdk.version", json_string(CRAFT_VERSION));
	json_t *out = json_array();
	const char *key;
	json_t *value;
	json_object_foreach (given, key, value) {
		json_array_append_new(
		    out, json_pack("{s:s, s:{s:O}}", "key", key, "value", "stringValue", value));
	}
	json_decref(given);
	return out;
}

json_t *craft_otlp_encode(json_t *resource, craft_span *const *spans, size_t count, size_t *encoded)
{
	json_t *list = json_array();
	size_t n = 0;
	for (size_t i = 0; i < count; i++)
		if (json_array_append_new(list, encode_span(spans[i])) == 0)
			n++;
	if (encoded)
		*encoded = n;
	return json_pack("{s:[{s:{s:O}, s:[{s:{s:s, s:s}, s:o}]}]}", "resourceSpans", "resource",
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

/* gzip `len` bytes into a malloc'd buffer; NULL when zlib fails. */
static unsigned char *gzip_body(const char *body, size_t len, size_t *out_len)
{
	z_stream z = {0};
	if (deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) !=
	    Z_OK)
		return NULL;
	size_t cap = deflateBound(&z, (uLong)len);
	unsigned char *out = craft_xmalloc(cap);
	z.next_in = (Bytef *)(uintptr_t)body;
	z.avail_in = (uInt)len;
	z.next_out = out;
	z.avail_out = (uInt)cap;
	int rc = deflate(&z, Z_FINISH);
	*out_len = cap - z.avail_out;
	deflateEnd(&z);
	if (rc != Z_STREAM_END) {
		free(out);
		return NULL;
	}
	return out;
}

/* The time one POST may take: the export timeout, and once the exporter is
 * stopping, no more than what is left of its flush (<= 0: nothing is left). */
static long post_timeout_ms(craft_otlp *e)
{
	pthread_mutex_lock(&e->lock);
	uint64_t until = e->flush_until_ms;
	pthread_mutex_unlock(&e->lock);
	long timeout = (long)e->o.timeout_ms;
	if (!until)
		return timeout;
	uint64_t now = craft_clock_ms();
	if (now >= until)
		return 0;
	return until - now < (uint64_t)timeout ? (long)(until - now) : timeout;
}

static bool post(craft_otlp *e, const char *body, size_t len, long *status, long *retry_after_s)
{
	unsigned char *zipped = NULL;
	*status = 0;
	*retry_after_s = 0;
	if (e->o.gzip) {
		zipped = gzip_body(body, len, &len);
		if (!zipped)
			return false;
		body = (const char *)zipped;
	}
	curl_easy_setopt(e->curl, CURLOPT_URL, e->url);
	curl_easy_setopt(e->curl, CURLOPT_HTTPHEADER, e->headers);
	curl_easy_setopt(e->curl, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(e->curl, CURLOPT_POSTFIELDSIZE, (long)len);
	long timeout = post_timeout_ms(e);
	if (timeout <= 0) {
		free(zipped);
		return false;
	}
	curl_easy_setopt(e->curl, CURLOPT_TIMEOUT_MS, timeout);
	curl_easy_setopt(e->curl, CURLOPT_CONNECTTIMEOUT_MS, timeout);
	curl_easy_setopt(e->curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e->curl, CURLOPT_WRITEFUNCTION, discard);
	curl_easy_setopt(e->curl, CURLOPT_PROTOCOLS_STR, "http,https");
	CURLcode rc = curl_easy_perform(e->curl);
	free(zipped);
	if (rc == CURLE_OK) {
		curl_easy_getinfo(e->curl, CURLINFO_RESPONSE_CODE, status);
		curl_off_t after = 0;
		if (curl_easy_getinfo(e->curl, CURLINFO_RETRY_AFTER, &after) == CURLE_OK &&
		    after > 0)
			*retry_after_s = (long)after;
	}
	return rc == CURLE_OK && *status >= 200 && *status < 300;
}

/* The request headers: content type and encoding, then OTEL_..._HEADERS.
 * NULL when that list is not made of key=value pairs. */
static struct curl_slist *request_headers(const struct craft_otlp_options *o)
{
	struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
	if (o->gzip)
		h = curl_slist_append(h, "Content-Encoding: gzip");
	if (!o->headers || !o->headers[0])
		return h;
	json_t *pairs = parse_pairs(o->headers);
	if (!pairs) {
		curl_slist_free_all(h);
		return NULL;
	}
	const char *key;
	json_t *value;
	json_object_foreach (pairs, key, value) {
		const char *v = json_string_value(value);
		/* a header line cannot hold a line break or a colon in its name */
		if (strpbrk(key, ":\r\n ") || strpbrk(v, "\r\n"))
			continue;
		size_t n = strlen(key) + strlen(v) + 3;
		char *line = craft_xmalloc(n);
		snprintf(line, n, "%s: %s", key, v);
		h = curl_slist_append(h, line);
		explicit_bzero(line, n); /* may be a credential */
		free(line);
	}
	json_decref(pairs);
	return h;
}

/* What the OTLP specification calls retryable: no answer, 429, 502-504. */
static bool retryable(long status)
{
	return status == 0 || status == 429 || status == 502 || status == 503 || status == 504;
}

/* Sleep `ms` on the exporter's clock; true when the exporter is stopping. */
static bool pause_unless_stopping(craft_otlp *e, unsigned ms)
{
	struct timespec until = craft_deadline_ms(ms);
	pthread_mutex_lock(&e->lock);
	while (!e->stopping && pthread_cond_timedwait(&e->wake, &e->lock, &until) == 0)
		;
	bool stopping = e->stopping;
	pthread_mutex_unlock(&e->lock);
	return stopping;
}

/* POST the batch, retrying a retryable failure with exponential backoff
 * (250 ms doubling, at most 5 s) or after the collector's Retry-After (at
 * most 30 s), up to MAX_ATTEMPTS; spans keep queueing meanwhile, bounded. */
static bool send_with_retries(craft_otlp *e, const char *body, size_t len, long *status)
{
	unsigned backoff = BACKOFF_MS;
	for (unsigned attempt = 1;; attempt++) {
		long after = 0;
		if (post(e, body, len, status, &after))
			return true;
		if (attempt == MAX_ATTEMPTS || !retryable(*status))
			return false;
		unsigned wait =
		    after > 0
			? (unsigned)(after < RETRY_AFTER_MAX_S ? after : RETRY_AFTER_MAX_S) * 1000u
			: backoff;
		backoff = backoff * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : backoff * 2;
		pthread_mutex_lock(&e->lock);
		e->retries++;
		pthread_mutex_unlock(&e->lock);
		if (pause_unless_stopping(e, wait))
			return false;
	}
}

static void export_batch(craft_otlp *e, craft_span **batch, size_t n)
{
	size_t encoded = 0;
	json_t *doc = craft_otlp_encode(e->resource, batch, n, &encoded);
	char *body = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
	json_decref(doc);
	for (size_t i = 0; i < n; i++)
		craft_span_free(batch[i]);
	long status = 0;
	bool ok = body && send_with_retries(e, body, strlen(body), &status);
	free(body);
	pthread_mutex_lock(&e->lock);
	bool was_failing = e->failing;
	e->failing = !ok;
	/* only what was sent counts as exported */
	if (ok)
		e->exported += encoded, e->dropped += n - encoded;
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

static void *exporter(void *arg)
{
	craft_otlp *e = arg;
	craft_span **batch = craft_xcalloc(e->o.max_batch, sizeof(craft_span *));
	pthread_mutex_lock(&e->lock);
	for (;;) {
		if (!e->stopping && e->count < e->o.max_batch) {
			struct timespec until = craft_deadline_ms(e->o.schedule_delay_ms);
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

/* service.instance.id: a random (version 4) UUID, new for each process. */
static void instance_id(char out[37])
{
	unsigned char b[16];
	if (RAND_bytes(b, sizeof(b)) != 1)
		craft_oom(0); /* no randomness: nothing sensible to carry on with */
	b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
	b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
	snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
		 b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12],
		 b[13], b[14], b[15]);
}

int craft_otlp_start(craft_tracer *tracer, const struct craft_otlp_options *opts, craft_otlp **out)
{
	bool whole = opts->traces_endpoint && opts->traces_endpoint[0];
	if (!whole && (!opts->endpoint || !opts->endpoint[0]))
		return CRAFT_EINVAL;
	struct curl_slist *headers = request_headers(opts);
	if (!headers)
		return CRAFT_EINVAL;
	craft_otlp *e = craft_xcalloc(1, sizeof(*e));
	e->headers = headers;
	e->tracer = tracer;
	e->o = *opts;
	e->o.max_queue = opts->max_queue ? opts->max_queue : DEFAULT_QUEUE;
	e->o.max_batch = opts->max_batch ? opts->max_batch : DEFAULT_BATCH;
	if (e->o.max_batch > e->o.max_queue)
		e->o.max_batch = e->o.max_queue;
	e->o.schedule_delay_ms = opts->schedule_delay_ms ? opts->schedule_delay_ms : DEFAULT_DELAY;
	e->o.timeout_ms = opts->timeout_ms ? opts->timeout_ms : DEFAULT_TIMEOUT;
	if (whole) {
		e->url = craft_xstrdup(opts->traces_endpoint);
	} else {
		size_t n = strlen(opts->endpoint);
		while (n > 0 && opts->endpoint[n - 1] == '/')
			n--;
		size_t len = n + sizeof("/v1/traces");
		e->url = craft_xmalloc(len);
		snprintf(e->url, len, "%.*s/v1/traces", (int)n, opts->endpoint);
	}
	e->o.endpoint = e->o.traces_endpoint = e->o.headers = NULL;
	e->ring = craft_xcalloc(e->o.max_queue, sizeof(craft_span *));
	instance_id(e->instance_id);
	bool bad = false;
	e->resource = craft_otlp_resource(tracer, opts->resource_attributes, opts->service_name_set,
					  e->instance_id, &bad);
	if (bad)
		craft_log(CRAFT_LOG_WARN, NULL,
			  "OTEL_RESOURCE_ATTRIBUTES is not a list of key=value pairs; ignored",
			  NULL);
	e->o.resource_attributes = NULL;
	pthread_mutex_init(&e->lock, NULL);
	craft_cond_init_monotonic(&e->wake);
	e->curl = curl_easy_init();
	if (!e->curl || pthread_create(&e->thread, NULL, exporter, e) != 0) {
		if (e->curl)
			curl_easy_cleanup(e->curl);
		pthread_cond_destroy(&e->wake);
		pthread_mutex_destroy(&e->lock);
		json_decref(e->resource);
		curl_slist_free_all(e->headers);
		free(e->ring);
		free(e->url);
		free(e);
		return CRAFT_EIO;
	}
	craft_tracer_set_sink(tracer, sink, e);
	craft_log(CRAFT_LOG_INFO, NULL, "exporting spans", "{s:s, s:b}", "endpoint", e->url, "gzip",
		  e->o.gzip);
	*out = e;
	return CRAFT_OK;
}

void craft_otlp_stop(craft_otlp *e)
{
	if (!e)
		return;
	pthread_mutex_lock(&e->lock);
	e->stopping = true;
	e->flush_until_ms = craft_clock_ms() + STOP_FLUSH_MS;
	pthread_cond_signal(&e->wake);
	pthread_mutex_unlock(&e->lock);
	pthread_join(e->thread, NULL);
	craft_tracer_set_sink(e->tracer, NULL, NULL);
	curl_easy_cleanup(e->curl);
	pthread_cond_destroy(&e->wake);
	pthread_mutex_destroy(&e->lock);
	json_decref(e->resource);
	curl_slist_free_all(e->headers);
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
					 .retries = e->retries,
					 .queued = e->count};
	pthread_mutex_unlock(&e->lock);
}
