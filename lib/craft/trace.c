/* trace.c - W3C Trace Context level 1 and heap spans. */
#include "trace.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/rand.h>
#include <pthread.h>
#include <stdatomic.h>

#include "common.h"

#define TRACESTATE_MEMBERS_MAX 32
#define SIMPLE_KEY_MAX         256
#define TENANT_ID_MAX          241
#define SYSTEM_ID_MAX          14
#define TRACESTATE_VALUE_MAX   256
#define FLAG_SAMPLED           0x01

struct craft_tracer {
	char *service_name;
	char *service_version;
	char *environment;
	bool parent_based;     /* follow a remote parent's sampled flag */
	uint64_t sample_below; /* sample a new trace when its id's low half is below */
	bool sample_all;       /* ... or always (ratio 1) */
	craft_span_sink sink;
	void *sink_ctx;
};

/* An attribute's owned strings next to the read-only view handed to exporters. */
struct span_attr {
	char *key;
	char *str;
	struct craft_span_attr view;
};

struct craft_span {
	const craft_tracer *tracer;
	craft_trace_ctx ctx;
	uint8_t parent_id[8];
	bool has_parent;
	enum craft_span_kind kind;
	char *name;
	char *error;
	uint64_t start_ns; /* wall clock, for the collector */
	uint64_t end_ns;   /* start_ns + the monotonic duration */
	uint64_t mono_start_ns;
	size_t attr_count;
	struct span_attr attrs[CRAFT_SPAN_ATTR_MAX];
};

/* ---- hex ---------------------------------------------------------------- */

static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1; /* upper case is not valid in trace context */
}

/* Decode 2*n lower-case hex digits into n bytes; false on any other char. */
static bool hex_decode(const char *s, size_t n, uint8_t *out)
{
	for (size_t i = 0; i < n; i++) {
		int hi = hex_value(s[2 * i]);
		int lo = hex_value(s[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return false;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return true;
}

static bool all_zero(const uint8_t *bytes, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (bytes[i])
			return false;
	}
	return true;
}

void craft_trace_id_hex(const uint8_t id[16], char out[CRAFT_TRACE_ID_HEX])
{
	craft_hex_encode(id, 16, out);
}

void craft_span_id_hex(const uint8_t id[8], char out[CRAFT_SPAN_ID_HEX])
{
	craft_hex_encode(id, 8, out);
}

/* ---- traceparent -------------------------------------------------------- */

/* Layout: vv-<32 trace>-<16 parent>-ff, dashes at 2, 35 and 52. */
int craft_traceparent_parse(const char *value, size_t len, craft_trace_ctx *out)
{
	uint8_t version, trace_id[16], span_id[8], flags;

	if (!value || !out || len < CRAFT_TRACEPARENT_LEN)
		return CRAFT_EINVAL;
	if (!hex_decode(value, 1, &version) || version == 0xff)
		return CRAFT_EINVAL;
	if (value[2] != '-' || value[35] != '-' || value[52] != '-')
		return CRAFT_EINVAL;
	if (!hex_decode(value + 3, 16, trace_id) || !hex_decode(value + 36, 8, span_id) ||
	    !hex_decode(value + 53, 1, &flags))
		return CRAFT_EINVAL;
	if (all_zero(trace_id, sizeof(trace_id)) || all_zero(span_id, sizeof(span_id)))
		return CRAFT_EINVAL;
	/* Version 00 has exactly four fields; later versions may append more. */
	if (len > CRAFT_TRACEPARENT_LEN && (version == 0 || value[CRAFT_TRACEPARENT_LEN] != '-'))
		return CRAFT_EINVAL;

	memcpy(out->trace_id, trace_id, sizeof(trace_id));
	memcpy(out->span_id, span_id, sizeof(span_id));
	out->flags = flags;
	out->tracestate[0] = '\0';
	return CRAFT_OK;
}

void craft_traceparent_format(const craft_trace_ctx *ctx, char out[CRAFT_TRACEPARENT_LEN + 1])
{
	/* NOLINTNEXTLINE(bugprone-not-null-terminated-result): written in parts */
	memcpy(out, "00-", 3);
	craft_hex_encode(ctx->trace_id, 16, out + 3);
	out[35] = '-';
	craft_hex_encode(ctx->span_id, 8, out + 36);
	out[52] = '-';
	craft_hex_encode(&ctx->flags, 1, out + 53);
}

/* ---- tracestate --------------------------------------------------------- */

static bool is_ows(char c)
{
	return c == ' ' || c == '\t';
}

static bool is_lcalpha(char c)
{
	return c >= 'a' && c <= 'z';
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* The characters allowed after the first one of a key part. */
static bool key_tail_ok(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		if (!is_lcalpha(c) && !is_digit(c) && c != '_' && c != '-' && c != '*' && c != '/')
			return false;
	}
	return true;
}

/* simple-key, or tenant-id "@" system-id. */
static bool key_ok(const char *key, size_t len)
{
	const char *at = memchr(key, '@', len);

	if (!at)
		return len >= 1 && len <= SIMPLE_KEY_MAX && is_lcalpha(key[0]) &&
		       key_tail_ok(key + 1, len - 1);

	size_t tenant = (size_t)(at - key);
	size_t system = len - tenant - 1;
	return tenant >= 1 && tenant <= TENANT_ID_MAX && (is_lcalpha(key[0]) || is_digit(key[0])) &&
	       key_tail_ok(key + 1, tenant - 1) && system >= 1 && system <= SYSTEM_ID_MAX &&
	       is_lcalpha(at[1]) && key_tail_ok(at + 2, system - 1);
}

/* Printable ASCII except ',' and '=', not ending in a space. */
static bool value_ok(const char *value, size_t len)
{
	if (len < 1 || len > TRACESTATE_VALUE_MAX || value[len - 1] == ' ')
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = value[i];
		if (c < 0x20 || c > 0x7e || c == ',' || c == '=')
			return false;
	}
	return true;
}

struct tracestate_parser {
	const char *keys[TRACESTATE_MEMBERS_MAX];
	size_t key_lens[TRACESTATE_MEMBERS_MAX];
	size_t count;
	char out[CRAFT_TRACESTATE_MAX + 1];
	size_t out_len;
};

/* Check one member (OWS already trimmed, not empty) and append it to p->out. */
static bool add_member(struct tracestate_parser *p, const char *m, size_t len)
{
	const char *eq = memchr(m, '=', len);

	if (!eq || p->count == TRACESTATE_MEMBERS_MAX)
		return false;
	size_t key_len = (size_t)(eq - m);
	if (!key_ok(m, key_len) || !value_ok(eq + 1, len - key_len - 1))
		return false;
	for (size_t i = 0; i < p->count; i++) {
		if (p->key_lens[i] == key_len && memcmp(p->keys[i], m, key_len) == 0)
			return false;
	}
	p->keys[p->count] = m;
	p->key_lens[p->count] = key_len;
	p->count++;
	/* The input is at most CRAFT_TRACESTATE_MAX bytes, so the copy fits. */
	if (p->out_len)
		p->out[p->out_len++] = ',';
	memcpy(p->out + p->out_len, m, len);
	p->out_len += len;
	p->out[p->out_len] = '\0';
	return true;
}

int craft_tracestate_parse(const char *value, size_t len, craft_trace_ctx *ctx)
{
	struct tracestate_parser p = {.count = 0, .out_len = 0};
	size_t pos = 0;

	if (!ctx)
		return CRAFT_EINVAL;
	ctx->tracestate[0] = '\0';
	if ((!value && len) || len > CRAFT_TRACESTATE_MAX)
		return CRAFT_EINVAL;
	p.out[0] = '\0';
	while (pos < len) {
		const char *comma = memchr(value + pos, ',', len - pos);
		size_t end = comma ? (size_t)(comma - value) : len;
		size_t start = pos;
		pos = end + 1;
		while (start < end && is_ows(value[start]))
			start++;
		while (end > start && is_ows(value[end - 1]))
			end--;
		if (start < end && !add_member(&p, value + start, end - start))
			return CRAFT_EINVAL;
	}
	memcpy(ctx->tracestate, p.out, p.out_len + 1);
	return CRAFT_OK;
}

/* ---- ids ---------------------------------------------------------------- */

/* Ids come from the CSPRNG, drawn a block at a time into a per-thread pool:
 * one RAND_bytes() call per RANDOM_POOL bytes instead of two per request. A
 * forked child throws its inherited pools away (the parent's bytes must not
 * be reused as ids). */
#define RANDOM_POOL 1024

static atomic_uint fork_generation;
static pthread_once_t fork_hook_once = PTHREAD_ONCE_INIT;

static void after_fork_child(void)
{
	atomic_fetch_add(&fork_generation, 1);
}

static void fork_hook_install(void)
{
	pthread_atfork(NULL, NULL, after_fork_child);
}

static void csprng(uint8_t *out, size_t n)
{
	if (RAND_bytes(out, (int)n) != 1) {
		fprintf(stderr, "craft: the CSPRNG failed, aborting\n");
		abort();
	}
}

/* n <= RANDOM_POOL bytes from this thread's pool. */
static void random_bytes(uint8_t *out, size_t n)
{
	static _Thread_local uint8_t pool[RANDOM_POOL];
	static _Thread_local size_t left;
	static _Thread_local unsigned generation;
	pthread_once(&fork_hook_once, fork_hook_install);
	unsigned now = atomic_load(&fork_generation);
	if (generation != now) {
		generation = now;
		left = 0;
	}
	if (left < n) {
		csprng(pool, sizeof(pool));
		left = sizeof(pool);
	}
	memcpy(out, pool + sizeof(pool) - left, n);
	explicit_bzero(pool + sizeof(pool) - left, n); /* each byte is handed out once */
	left -= n;
}

static void random_nonzero(uint8_t *out, size_t n)
{
	do
		random_bytes(out, n);
	while (all_zero(out, n));
}

void craft_trace_new_trace_id(uint8_t id[16])
{
	random_nonzero(id, 16);
}

void craft_trace_new_span_id(uint8_t id[8])
{
	random_nonzero(id, 8);
}

/* ---- tracer ------------------------------------------------------------- */

craft_tracer *craft_tracer_new(const char *service_name, const char *service_version,
			       const char *environment)
{
	craft_tracer *tracer = craft_xcalloc(1, sizeof(*tracer));

	tracer->service_name = craft_xstrdup(service_name ? service_name : "unknown_service");
	tracer->service_version = craft_xstrdup(service_version ? service_version : "");
	tracer->environment = craft_xstrdup(environment ? environment : "");
	tracer->parent_based = true;
	tracer->sample_all = true;
	return tracer;
}

int craft_tracer_set_sampler(craft_tracer *t, const char *name, const char *arg, char *err,
			     size_t err_len)
{
	if (!name || !name[0])
		name = "parentbased_always_on";
	bool parent_based = strncmp(name, "parentbased_", 12) == 0;
	const char *base = parent_based ? name + 12 : name;
	double ratio;
	if (strcmp(base, "always_on") == 0) {
		ratio = 1;
	} else if (strcmp(base, "always_off") == 0) {
		ratio = 0;
	} else if (strcmp(base, "traceidratio") == 0) {
		char *end = NULL;
		ratio = arg && arg[0] ? strtod(arg, &end) : 1.0;
		if ((arg && arg[0] && (!end || *end)) || !(ratio >= 0 && ratio <= 1)) {
			snprintf(err, err_len,
				 "OTEL_TRACES_SAMPLER_ARG must be a probability from 0 to 1 (got "
				 "\"%.32s\")",
				 arg ? arg : "");
			return CRAFT_EINVAL;
		}
	} else {
		snprintf(err, err_len,
			 "OTEL_TRACES_SAMPLER must be always_on, always_off, traceidratio or "
			 "parentbased_ with one of them (got \"%.48s\")",
			 name);
		return CRAFT_EINVAL;
	}
	t->parent_based = parent_based;
	t->sample_all = ratio >= 1;
	/* 2^64 * ratio, computed without overflowing the conversion */
	t->sample_below = ratio <= 0 ? 0 : (uint64_t)(ratio * 18446744073709549568.0);
	return CRAFT_OK;
}

/* The decision for a trace this service starts (or, without parent_based,
 * for every trace it is asked to join): deterministic in the trace id. */
static bool sample(const craft_tracer *t, const uint8_t trace_id[16])
{
	if (!t || t->sample_all)
		return true;
	uint64_t low = 0;
	for (int i = 8; i < 16; i++)
		low = low << 8 | trace_id[i];
	return low < t->sample_below;
}

void craft_tracer_free(craft_tracer *tracer)
{
	if (!tracer)
		return;
	free(tracer->service_name);
	free(tracer->service_version);
	free(tracer->environment);
	free(tracer);
}

void craft_tracer_set_sink(craft_tracer *tracer, craft_span_sink sink, void *sink_ctx)
{
	if (!tracer)
		return;
	tracer->sink = sink;
	tracer->sink_ctx = sink_ctx;
}

const char *craft_tracer_service_name(const craft_tracer *tracer)
{
	return tracer ? tracer->service_name : NULL;
}

const char *craft_tracer_service_version(const craft_tracer *tracer)
{
	return tracer ? tracer->service_version : NULL;
}

const char *craft_tracer_environment(const craft_tracer *tracer)
{
	return tracer ? tracer->environment : NULL;
}

/* ---- spans -------------------------------------------------------------- */

static uint64_t clock_ns(clockid_t clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* A heap copy of at most CRAFT_SPAN_TEXT_MAX bytes, never cutting a UTF-8
 * sequence in two. */
static char *text_copy(const char *s)
{
	size_t n = strnlen(s, CRAFT_SPAN_TEXT_MAX + 1);

	if (n > CRAFT_SPAN_TEXT_MAX) {
		n = CRAFT_SPAN_TEXT_MAX;
		while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
			n--;
	}
	char *copy = craft_xmalloc(n + 1);
	memcpy(copy, s, n);
	copy[n] = '\0';
	return copy;
}

/* Inherit trace id, flags and tracestate from a parent context. */
static void inherit(craft_span *span, const craft_trace_ctx *parent)
{
	memcpy(span->ctx.trace_id, parent->trace_id, sizeof(span->ctx.trace_id));
	memcpy(span->parent_id, parent->span_id, sizeof(span->parent_id));
	span->has_parent = true;
	span->ctx.flags = parent->flags & FLAG_SAMPLED; /* other level 1 flags must be 0 */
	size_t n = strnlen(parent->tracestate, CRAFT_TRACESTATE_MAX);
	memcpy(span->ctx.tracestate, parent->tracestate, n);
	span->ctx.tracestate[n] = '\0';
}

craft_span *craft_span_start(craft_tracer *tracer, const craft_span *parent,
			     const craft_trace_ctx *remote, enum craft_span_kind kind,
			     const char *name)
{
	craft_span *span = craft_xcalloc(1, sizeof(*span));

	span->tracer = tracer;
	span->kind =
	    kind >= CRAFT_SPAN_INTERNAL && kind <= CRAFT_SPAN_CONSUMER ? kind : CRAFT_SPAN_INTERNAL;
	span->name = text_copy(name ? name : "");
	if (parent) {
		inherit(span, &parent->ctx);
	} else if (remote && !all_zero(remote->trace_id, 16) && !all_zero(remote->span_id, 8)) {
		inherit(span, remote);
		if (tracer && !tracer->parent_based)
			span->ctx.flags = sample(tracer, span->ctx.trace_id) ? FLAG_SAMPLED : 0;
	} else {
		craft_trace_new_trace_id(span->ctx.trace_id);
		span->ctx.flags = sample(tracer, span->ctx.trace_id) ? FLAG_SAMPLED : 0;
	}
	craft_trace_new_span_id(span->ctx.span_id);
	/* the wall clock dates the span; its duration comes from the monotonic
	 * clock, so a clock step during a request cannot stretch or invert it */
	span->start_ns = clock_ns(CLOCK_REALTIME);
	span->mono_start_ns = clock_ns(CLOCK_MONOTONIC);
	return span;
}

/* The attribute with this key, or a new slot for it, or NULL when full. */
static struct span_attr *attr_slot(craft_span *span, const char *key)
{
	for (size_t i = 0; i < span->attr_count; i++) {
		if (strcmp(span->attrs[i].key, key) == 0) {
			free(span->attrs[i].str);
			span->attrs[i].str = NULL;
			span->attrs[i].view.str = NULL;
			return &span->attrs[i];
		}
	}
	if (span->attr_count == CRAFT_SPAN_ATTR_MAX)
		return NULL;
	struct span_attr *attr = &span->attrs[span->attr_count++];
	attr->key = text_copy(key);
	attr->view.key = attr->key;
	return attr;
}

void craft_span_set_str(craft_span *span, const char *key, const char *value)
{
	if (!span || !key || !value)
		return;
	struct span_attr *attr = attr_slot(span, key);
	if (!attr)
		return;
	attr->str = text_copy(value);
	attr->view.type = CRAFT_ATTR_STR;
	attr->view.str = attr->str;
	attr->view.num = 0;
}

void craft_span_set_int(craft_span *span, const char *key, int64_t value)
{
	if (!span || !key)
		return;
	struct span_attr *attr = attr_slot(span, key);
	if (!attr)
		return;
	attr->view.type = CRAFT_ATTR_INT;
	attr->view.num = value;
}

void craft_span_set_bool(craft_span *span, const char *key, bool value)
{
	if (!span || !key)
		return;
	struct span_attr *attr = attr_slot(span, key);
	if (!attr)
		return;
	attr->view.type = CRAFT_ATTR_BOOL;
	attr->view.num = value ? 1 : 0;
}

void craft_span_set_name(craft_span *span, const char *name)
{
	if (!span || !name)
		return;
	free(span->name);
	span->name = text_copy(name);
}

void craft_span_set_error(craft_span *span, const char *message)
{
	if (!span)
		return;
	free(span->error);
	span->error = text_copy(message ? message : "error");
}

bool craft_span_recording(const craft_span *span)
{
	return span && (span->ctx.flags & FLAG_SAMPLED) && span->tracer && span->tracer->sink;
}

void craft_span_unsample(craft_span *span)
{
	if (span)
		span->ctx.flags &= (uint8_t)~FLAG_SAMPLED;
}

const craft_trace_ctx *craft_span_context(const craft_span *span)
{
	return span ? &span->ctx : NULL;
}

void craft_span_end(craft_span *span)
{
	if (!span)
		return;
	span->end_ns = span->start_ns + (clock_ns(CLOCK_MONOTONIC) - span->mono_start_ns);
	if (span->tracer && span->tracer->sink)
		span->tracer->sink(span->tracer->sink_ctx, span);
	else
		craft_span_free(span);
}

void craft_span_free(craft_span *span)
{
	if (!span)
		return;
	for (size_t i = 0; i < span->attr_count; i++) {
		free(span->attrs[i].key);
		free(span->attrs[i].str);
	}
	free(span->name);
	free(span->error);
	free(span);
}

/* ---- read access -------------------------------------------------------- */

const char *craft_span_name(const craft_span *span)
{
	return span ? span->name : NULL;
}

enum craft_span_kind craft_span_kind_of(const craft_span *span)
{
	return span ? span->kind : CRAFT_SPAN_INTERNAL;
}

const uint8_t *craft_span_parent_id(const craft_span *span)
{
	return span && span->has_parent ? span->parent_id : NULL;
}

uint64_t craft_span_start_ns(const craft_span *span)
{
	return span ? span->start_ns : 0;
}

uint64_t craft_span_end_ns(const craft_span *span)
{
	return span ? span->end_ns : 0;
}

size_t craft_span_attr_count(const craft_span *span)
{
	return span ? span->attr_count : 0;
}

const struct craft_span_attr *craft_span_attr_at(const craft_span *span, size_t index)
{
	return span && index < span->attr_count ? &span->attrs[index].view : NULL;
}

const char *craft_span_error(const craft_span *span)
{
	return span ? span->error : NULL;
}

const craft_tracer *craft_span_tracer(const craft_span *span)
{
	return span ? span->tracer : NULL;
}
