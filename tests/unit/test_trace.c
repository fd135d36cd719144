/* Unit tests for lib/craft/trace.c: W3C trace context parsing and spans. */
#include <setjmp.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "craft/common.h"
#include "craft/trace.h"

#define TP_VALID "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"

struct tp_case {
	const char *value;
	bool valid;
	const char *why;
};

static const struct tp_case tp_cases[] = {
    {.value = TP_VALID, .valid = true, .why = "spec example"},
    {.value = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00",
     .valid = true,
     .why = "not sampled"},
    {.value = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-ff",
     .valid = true,
     .why = "unknown flags are still parsed"},
    {.value = "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
     .valid = true,
     .why = "future version, exact length"},
    {.value = "cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-what-the-future-holds",
     .valid = true,
     .why = "future version with extra fields"},
    {.value = "cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01.extra",
     .valid = false,
     .why = "future version, no dash after flags"},
    {.value = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",
     .valid = false,
     .why = "version 00 with extra fields"},
    {.value = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-010",
     .valid = false,
     .why = "version 00, 56 chars"},
    {.value = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-1",
     .valid = false,
     .why = "54 chars"},
    {.value = "", .valid = false, .why = "empty"},
    {.value = "00-4bf92f3577b34da6a3ce929d0e0e473-600f067aa0ba902b7-01",
     .valid = false,
     .why = "short trace id"},
    {.value = "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
     .valid = false,
     .why = "upper-case trace id"},
    {.value = "00-4bf92f3577b34da6a3ce929d0e0e4736-00F067AA0BA902B7-01",
     .valid = false,
     .why = "upper-case parent id"},
    {.value = "0A-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
     .valid = false,
     .why = "upper-case version"},
    {.value = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0A",
     .valid = false,
     .why = "upper-case flags"},
    {.value = "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
     .valid = false,
     .why = "zero trace id"},
    {.value = "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
     .valid = false,
     .why = "zero parent id"},
    {.value = "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
     .valid = false,
     .why = "version ff"},
    {.value = "00_4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
     .valid = false,
     .why = "bad first separator"},
    {.value = "00-4bf92f3577b34da6a3ce929d0e0e4736_00f067aa0ba902b7-01",
     .valid = false,
     .why = "bad second separator"},
    {.value = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7_01",
     .valid = false,
     .why = "bad third separator"},
    {.value = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0g",
     .valid = false,
     .why = "non-hex flags"},
    {.value = "0g-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
     .valid = false,
     .why = "non-hex version"},
    {.value = " 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
     .valid = false,
     .why = "leading space"},
    {.value = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01 ",
     .valid = false,
     .why = "trailing space"},
    {.value = "cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-",
     .valid = true,
     .why = "future version, trailing dash"},
    {.value = "cc-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01-xx",
     .valid = false,
     .why = "future version, short trace id"},
};

static void test_traceparent_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < CRAFT_ARRAY_LEN(tp_cases); i++) {
		craft_trace_ctx ctx;
		memset(&ctx, 0xa5, sizeof(ctx));
		craft_trace_ctx before;
		memcpy(&before, &ctx, sizeof(before));
		int rc =
		    craft_traceparent_parse(tp_cases[i].value, strlen(tp_cases[i].value), &ctx);
		if ((rc == 0) != tp_cases[i].valid)
			fail_msg("case %zu (%s): \"%s\" gave %d", i, tp_cases[i].why,
				 tp_cases[i].value, rc);
		if (rc != 0)
			assert_memory_equal(&ctx, &before, sizeof(ctx)); /* untouched on error */
	}
}

static void test_traceparent_fields(void **state)
{
	(void)state;
	craft_trace_ctx ctx;
	memset(&ctx, 0x11, sizeof(ctx));
	assert_int_equal(craft_traceparent_parse(TP_VALID, strlen(TP_VALID), &ctx), 0);

	char trace_hex[CRAFT_TRACE_ID_HEX], span_hex[CRAFT_SPAN_ID_HEX];
	craft_trace_id_hex(ctx.trace_id, trace_hex);
	craft_span_id_hex(ctx.span_id, span_hex);
	assert_string_equal(trace_hex, "4bf92f3577b34da6a3ce929d0e0e4736");
	assert_string_equal(span_hex, "00f067aa0ba902b7");
	assert_int_equal(ctx.flags, 0x01);
	assert_string_equal(ctx.tracestate, ""); /* cleared */
	assert_int_equal(ctx.trace_id[0], 0x4b);
	assert_int_equal(ctx.span_id[7], 0xb7);
}

static void test_traceparent_length_is_respected(void **state)
{
	(void)state;
	craft_trace_ctx ctx;
	/* The bytes after len must not be read: the first 54 are not enough. */
	assert_int_equal(craft_traceparent_parse(TP_VALID, 54, &ctx), CRAFT_EINVAL);
	assert_int_equal(craft_traceparent_parse(NULL, 0, &ctx), CRAFT_EINVAL);
	/* A value inside a larger buffer parses by its length. */
	const char *buf = TP_VALID "-junk";
	assert_int_equal(craft_traceparent_parse(buf, 55, &ctx), 0);
}

static void test_traceparent_round_trip(void **state)
{
	(void)state;
	const char *inputs[] = {
	    TP_VALID,
	    "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00",
	    "00-ffffffffffffffffffffffffffffffff-0000000000000001-01",
	};
	for (size_t i = 0; i < CRAFT_ARRAY_LEN(inputs); i++) {
		craft_trace_ctx ctx;
		char out[CRAFT_TRACEPARENT_LEN + 1];
		assert_int_equal(craft_traceparent_parse(inputs[i], strlen(inputs[i]), &ctx), 0);
		memset(out, 'x', sizeof(out));
		craft_traceparent_format(&ctx, out);
		assert_string_equal(out, inputs[i]);
	}

	/* A future version is written back as version 00. */
	const char *future = "cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-x";
	craft_trace_ctx ctx;
	char out[CRAFT_TRACEPARENT_LEN + 1];
	assert_int_equal(craft_traceparent_parse(future, strlen(future), &ctx), 0);
	craft_traceparent_format(&ctx, out);
	assert_string_equal(out, TP_VALID);
}

struct ts_case {
	const char *value;
	bool valid;
	const char *stored; /* expected copy when valid */
};

static const struct ts_case ts_cases[] = {
    {.value = "", .valid = true, .stored = ""},
    {.value = "   ", .valid = true, .stored = ""},
    {.value = "rojo=00f067aa0ba902b7", .valid = true, .stored = "rojo=00f067aa0ba902b7"},
    {.value = "rojo=00f067aa0ba902b7,congo=t61rcWkgMzE",
     .valid = true,
     .stored = "rojo=00f067aa0ba902b7,congo=t61rcWkgMzE"},
    {.value = " a=1 ,\t b=2\t,,  , c=3 ", .valid = true, .stored = "a=1,b=2,c=3"},
    {.value = "tenant@vendor=x", .valid = true, .stored = "tenant@vendor=x"},
    {.value = "1tenant@vendor=x", .valid = true, .stored = "1tenant@vendor=x"},
    {.value = "k_-*/9=v", .valid = true, .stored = "k_-*/9=v"},
    {.value = "k= leading space ok", .valid = true, .stored = "k= leading space ok"},
    {.value = "k=!\"#$%&'()*+-./:;<>?@[\\]^_`{|}~",
     .valid = true,
     .stored = "k=!\"#$%&'()*+-./:;<>?@[\\]^_`{|}~"},
    {.value = "Rojo=1", .valid = false},                     /* upper case key */
    {.value = "1rojo=1", .valid = false},                    /* simple key starting with a digit */
    {.value = "rojo", .valid = false},                       /* no '=' */
    {.value = "rojo=", .valid = false},                      /* empty value */
    {.value = "=1", .valid = false},                         /* empty key */
    {.value = "rojo=a=b", .valid = false},                   /* '=' in value */
    {.value = "rojo=a\tb", .valid = false},                  /* tab in value */
    {.value = "rojo=caf\xc3\xa9", .valid = false},           /* non-ASCII value */
    {.value = "a=1,a=2", .valid = false},                    /* duplicate key */
    {.value = "@vendor=x", .valid = false},                  /* empty tenant */
    {.value = "tenant@=x", .valid = false},                  /* empty system */
    {.value = "tenant@1vendor=x", .valid = false},           /* system starts with digit */
    {.value = "tenant@vendorwithfifteen=x", .valid = false}, /* system id too long */
    {.value = "a@b@c=x", .valid = false},                    /* two '@' */
    {.value = "ro jo=1", .valid = false},                    /* space in key */
};

static void test_tracestate_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < CRAFT_ARRAY_LEN(ts_cases); i++) {
		craft_trace_ctx ctx;
		memset(&ctx, 0, sizeof(ctx));
		memcpy(ctx.tracestate, "old=1", 6);
		int rc = craft_tracestate_parse(ts_cases[i].value, strlen(ts_cases[i].value), &ctx);
		if ((rc == 0) != ts_cases[i].valid)
			fail_msg("case %zu: \"%s\" gave %d", i, ts_cases[i].value, rc);
		if (rc == 0)
			assert_string_equal(ctx.tracestate, ts_cases[i].stored);
		else
			assert_string_equal(ctx.tracestate, "");
	}
}

static void test_tracestate_limits(void **state)
{
	(void)state;
	char buf[CRAFT_TRACESTATE_MAX + 64];
	craft_trace_ctx ctx;
	size_t len = 0;

	/* 32 members are fine, 33 are not. */
	for (int i = 0; i < 33; i++)
		len += (size_t)snprintf(buf + len, sizeof(buf) - len, "%sk%d=v", i ? "," : "", i);
	size_t len32 = (size_t)(strstr(buf, ",k32=") - buf);
	assert_int_equal(craft_tracestate_parse(buf, len32, &ctx), 0);
	assert_int_equal(strlen(ctx.tracestate), len32);
	assert_int_equal(craft_tracestate_parse(buf, len, &ctx), CRAFT_EINVAL);
	assert_string_equal(ctx.tracestate, "");

	/* Exactly CRAFT_TRACESTATE_MAX bytes pass, one more does not. */
	memset(buf, 'v', sizeof(buf));
	memcpy(buf, "k=", 2);
	assert_int_equal(craft_tracestate_parse(buf, 256 + 2, &ctx), 0);
	assert_int_equal(craft_tracestate_parse(buf, 257 + 2, &ctx), CRAFT_EINVAL); /* value max */
	memcpy(buf, "a=", 2);
	buf[200] = ',';
	memcpy(buf + 201, "b=", 2);
	buf[400] = ',';
	memcpy(buf + 401, "c=", 2);
	assert_int_equal(craft_tracestate_parse(buf, CRAFT_TRACESTATE_MAX, &ctx), 0);
	assert_int_equal(strlen(ctx.tracestate), CRAFT_TRACESTATE_MAX);
	assert_int_equal(craft_tracestate_parse(buf, CRAFT_TRACESTATE_MAX + 1, &ctx), CRAFT_EINVAL);

	/* Key length limits: simple 256, tenant 241, system 14. */
	memset(buf, 'k', sizeof(buf));
	memcpy(buf + 256, "=v", 2);
	assert_int_equal(craft_tracestate_parse(buf, 258, &ctx), 0);
	memset(buf, 'k', sizeof(buf));
	memcpy(buf + 257, "=v", 2);
	assert_int_equal(craft_tracestate_parse(buf, 259, &ctx), CRAFT_EINVAL);
	memset(buf, 't', sizeof(buf));
	memcpy(buf + 241, "@abcdefghijklmn=v", 17);
	assert_int_equal(craft_tracestate_parse(buf, 258, &ctx), 0);
	memset(buf, 't', sizeof(buf));
	memcpy(buf + 242, "@abcdefghijklmn=v", 17);
	assert_int_equal(craft_tracestate_parse(buf, 259, &ctx), CRAFT_EINVAL);
}

static void test_ids_random(void **state)
{
	(void)state;
	uint8_t a[16], b[16], s1[8], s2[8];
	craft_trace_new_trace_id(a);
	craft_trace_new_trace_id(b);
	craft_trace_new_span_id(s1);
	craft_trace_new_span_id(s2);
	assert_memory_not_equal(a, b, sizeof(a));
	assert_memory_not_equal(s1, s2, sizeof(s1));
	static const uint8_t zero[16];
	assert_memory_not_equal(a, zero, 16);
	assert_memory_not_equal(s1, zero, 8);
}

static void test_span_new_trace(void **state)
{
	(void)state;
	craft_tracer *tracer = craft_tracer_new("svc", "1.2.3", "test");
	craft_span *span = craft_span_start(tracer, NULL, NULL, CRAFT_SPAN_SERVER, "GET /");
	const craft_trace_ctx *ctx = craft_span_context(span);

	assert_non_null(ctx);
	assert_null(craft_span_parent_id(span));
	assert_int_equal(ctx->flags & 1, 1);
	assert_string_equal(ctx->tracestate, "");
	assert_string_equal(craft_span_name(span), "GET /");
	assert_int_equal(craft_span_kind_of(span), CRAFT_SPAN_SERVER);
	assert_ptr_equal(craft_span_tracer(span), tracer);
	assert_true(craft_span_start_ns(span) > 1600000000ull * 1000000000ull);
	assert_null(craft_span_error(span));

	craft_span *other = craft_span_start(tracer, NULL, NULL, CRAFT_SPAN_SERVER, "GET /");
	assert_memory_not_equal(craft_span_context(other)->trace_id, ctx->trace_id, 16);

	craft_span_end(other);
	craft_span_end(span);
	craft_tracer_free(tracer);
}

static void test_span_local_parent(void **state)
{
	(void)state;
	craft_trace_ctx remote;
	assert_int_equal(craft_traceparent_parse(TP_VALID, strlen(TP_VALID), &remote), 0);
	craft_span *root = craft_span_start(NULL, NULL, NULL, CRAFT_SPAN_SERVER, "root");
	/* The local parent wins over a remote context. */
	craft_span *child = craft_span_start(NULL, root, &remote, CRAFT_SPAN_CLIENT, "child");
	const craft_trace_ctx *rc = craft_span_context(root);
	const craft_trace_ctx *cc = craft_span_context(child);

	assert_memory_equal(cc->trace_id, rc->trace_id, 16);
	assert_memory_not_equal(cc->span_id, rc->span_id, 8);
	assert_non_null(craft_span_parent_id(child));
	assert_memory_equal(craft_span_parent_id(child), rc->span_id, 8);
	assert_int_equal(cc->flags, rc->flags);

	craft_span_end(child);
	craft_span_end(root);
}

static void test_span_remote_parent(void **state)
{
	(void)state;
	const char *tp = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-03";
	const char *ts = "congo=t61rcWkgMzE";
	craft_trace_ctx remote;
	assert_int_equal(craft_traceparent_parse(tp, strlen(tp), &remote), 0);
	assert_int_equal(craft_tracestate_parse(ts, strlen(ts), &remote), 0);

	craft_span *span = craft_span_start(NULL, NULL, &remote, CRAFT_SPAN_SERVER, "in");
	const craft_trace_ctx *ctx = craft_span_context(span);
	assert_memory_equal(ctx->trace_id, remote.trace_id, 16);
	assert_memory_equal(craft_span_parent_id(span), remote.span_id, 8);
	assert_memory_not_equal(ctx->span_id, remote.span_id, 8);
	assert_int_equal(ctx->flags, 0x01); /* unknown flag bits are not propagated */
	assert_string_equal(ctx->tracestate, ts);

	/* And the grandchild keeps trace id and tracestate. */
	craft_span *child = craft_span_start(NULL, span, NULL, CRAFT_SPAN_CLIENT, "out");
	assert_memory_equal(craft_span_context(child)->trace_id, remote.trace_id, 16);
	assert_string_equal(craft_span_context(child)->tracestate, ts);

	char out[CRAFT_TRACEPARENT_LEN + 1];
	char span_hex[CRAFT_SPAN_ID_HEX];
	craft_traceparent_format(craft_span_context(child), out);
	craft_span_id_hex(craft_span_context(child)->span_id, span_hex);
	assert_memory_equal(out, "00-4bf92f3577b34da6a3ce929d0e0e4736-", 36);
	assert_memory_equal(out + 36, span_hex, 16);
	assert_string_equal(out + 52, "-01");

	craft_span_end(child);
	craft_span_end(span);
}

static void test_attributes(void **state)
{
	(void)state;
	craft_span *span = craft_span_start(NULL, NULL, NULL, CRAFT_SPAN_INTERNAL, "attrs");
	char key[32];

	craft_span_set_str(span, "http.request.method", "GET");
	craft_span_set_int(span, "http.response.status_code", 200);
	craft_span_set_bool(span, "error.flag", true);
	craft_span_set_str(span, "http.request.method", "POST"); /* replaces */
	craft_span_set_str(span, NULL, "x");
	craft_span_set_str(span, "ignored", NULL);
	assert_int_equal(craft_span_attr_count(span), 3);

	const struct craft_span_attr *a = craft_span_attr_at(span, 0);
	assert_string_equal(a->key, "http.request.method");
	assert_int_equal(a->type, CRAFT_ATTR_STR);
	assert_string_equal(a->str, "POST");
	a = craft_span_attr_at(span, 1);
	assert_int_equal(a->type, CRAFT_ATTR_INT);
	assert_int_equal(a->num, 200);
	a = craft_span_attr_at(span, 2);
	assert_int_equal(a->type, CRAFT_ATTR_BOOL);
	assert_int_equal(a->num, 1);
	assert_null(craft_span_attr_at(span, 3));

	/* Keys and values are copied. */
	snprintf(key, sizeof(key), "copied");
	craft_span_set_str(span, key, key);
	key[0] = 'X';
	assert_string_equal(craft_span_attr_at(span, 3)->key, "copied");
	assert_string_equal(craft_span_attr_at(span, 3)->str, "copied");

	for (int i = 0; i < 40; i++) {
		snprintf(key, sizeof(key), "k%d", i);
		craft_span_set_int(span, key, i);
	}
	assert_int_equal(craft_span_attr_count(span), CRAFT_SPAN_ATTR_MAX);
	assert_string_equal(craft_span_attr_at(span, CRAFT_SPAN_ATTR_MAX - 1)->key, "k27");
	/* An existing key can still be changed when full. */
	craft_span_set_int(span, "http.response.status_code", 503);
	assert_int_equal(craft_span_attr_at(span, 1)->num, 503);
	assert_int_equal(craft_span_attr_at(span, 1)->type, CRAFT_ATTR_INT);

	craft_span_end(span);
}

static void test_long_text_cut_on_utf8_boundary(void **state)
{
	(void)state;
	char big[CRAFT_SPAN_TEXT_MAX + 16];
	memset(big, 'a', sizeof(big));
	/* A 2-byte sequence straddling the limit must be dropped whole. */
	big[CRAFT_SPAN_TEXT_MAX - 1] = '\xc3';
	big[CRAFT_SPAN_TEXT_MAX] = '\xa9';
	big[sizeof(big) - 1] = '\0';
	craft_span *span = craft_span_start(NULL, NULL, NULL, CRAFT_SPAN_INTERNAL, big);
	assert_int_equal(strlen(craft_span_name(span)), CRAFT_SPAN_TEXT_MAX - 1);
	craft_span_set_error(span, big);
	assert_int_equal(strlen(craft_span_error(span)), CRAFT_SPAN_TEXT_MAX - 1);
	craft_span_set_error(span, "boom");
	assert_string_equal(craft_span_error(span), "boom");
	craft_span_set_name(span, "GET /api/products/{id}");
	assert_string_equal(craft_span_name(span), "GET /api/products/{id}");
	craft_span_end(span);
}

struct sink_record {
	int calls;
	craft_span *span;
};

static void record_sink(void *sink_ctx, craft_span *span)
{
	struct sink_record *rec = sink_ctx;
	rec->calls++;
	rec->span = span;
}

static void test_sink_receives_span(void **state)
{
	(void)state;
	struct sink_record rec = {.calls = 0, .span = NULL};
	craft_tracer *tracer = craft_tracer_new("product", "0.1.0", "production");
	craft_tracer_set_sink(tracer, record_sink, &rec);

	craft_span *span = craft_span_start(tracer, NULL, NULL, CRAFT_SPAN_CLIENT, "SELECT");
	craft_span_set_str(span, "db.system", "postgresql");
	craft_span_set_error(span, "connection refused");
	assert_int_equal(craft_span_end_ns(span), 0);
	craft_span_end(span);

	assert_int_equal(rec.calls, 1);
	assert_ptr_equal(rec.span, span);
	assert_true(craft_span_end_ns(rec.span) >= craft_span_start_ns(rec.span));
	assert_string_equal(craft_span_error(rec.span), "connection refused");
	assert_string_equal(craft_span_attr_at(rec.span, 0)->str, "postgresql");
	const craft_tracer *t = craft_span_tracer(rec.span);
	assert_string_equal(craft_tracer_service_name(t), "product");
	assert_string_equal(craft_tracer_service_version(t), "0.1.0");
	assert_string_equal(craft_tracer_environment(t), "production");
	craft_span_free(rec.span);
	craft_tracer_free(tracer);
}

static void test_null_safety(void **state)
{
	(void)state;
	craft_span_set_str(NULL, "k", "v");
	craft_span_set_int(NULL, "k", 1);
	craft_span_set_bool(NULL, "k", true);
	craft_span_set_name(NULL, "n");
	craft_span_set_error(NULL, "e");
	craft_span_end(NULL);
	craft_span_free(NULL);
	craft_tracer_free(NULL);
	assert_null(craft_span_context(NULL));
	assert_null(craft_span_name(NULL));
	assert_null(craft_span_parent_id(NULL));
	assert_int_equal(craft_span_attr_count(NULL), 0);
	assert_null(craft_tracer_service_name(NULL));

	craft_tracer *tracer = craft_tracer_new(NULL, NULL, NULL);
	assert_string_equal(craft_tracer_service_name(tracer), "unknown_service");
	assert_string_equal(craft_tracer_service_version(tracer), "");
	craft_span *span = craft_span_start(tracer, NULL, NULL, (enum craft_span_kind)42, NULL);
	assert_string_equal(craft_span_name(span), "");
	assert_int_equal(craft_span_kind_of(span), CRAFT_SPAN_INTERNAL);
	craft_span_end(span);
	craft_tracer_free(tracer);
}

static bool sampled(const craft_span *s)
{
	return (craft_span_context(s)->flags & 1) != 0;
}

/* How many of n new traces the tracer samples; remote: join a sampled parent. */
static int count_sampled(craft_tracer *t, int n, bool remote)
{
	const char *tp = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
	craft_trace_ctx ctx;
	assert_int_equal(craft_traceparent_parse(tp, strlen(tp), &ctx), CRAFT_OK);
	int yes = 0;
	for (int i = 0; i < n; i++) {
		craft_span *s =
		    craft_span_start(t, NULL, remote ? &ctx : NULL, CRAFT_SPAN_SERVER, "x");
		craft_span *child = craft_span_start(t, s, NULL, CRAFT_SPAN_CLIENT, "y");
		assert_int_equal(sampled(child), sampled(s)); /* a local child follows */
		yes += sampled(s);
		craft_span_free(child);
		craft_span_free(s);
	}
	return yes;
}

static void test_samplers(void **state)
{
	(void)state;
	char err[200];
	craft_tracer *t = craft_tracer_new("svc", "1", "dev");
	assert_int_equal(count_sampled(t, 50, false), 50); /* default: parentbased_always_on */
	assert_int_equal(craft_tracer_set_sampler(t, "always_off", NULL, err, sizeof(err)), 0);
	assert_int_equal(count_sampled(t, 50, false), 0);
	assert_int_equal(count_sampled(t, 5, true), 0); /* not parent based: decides alone */
	assert_int_equal(
	    craft_tracer_set_sampler(t, "parentbased_always_off", "", err, sizeof(err)), 0);
	assert_int_equal(count_sampled(t, 50, false), 0);
	assert_int_equal(count_sampled(t, 5, true), 5); /* follows the sampled parent */
	assert_int_equal(craft_tracer_set_sampler(t, "traceidratio", "0.5", err, sizeof(err)), 0);
	int half = count_sampled(t, 2000, false);
	assert_in_range(half, 850, 1150); /* random trace ids: about half, 6 sigma either side */
	assert_int_equal(craft_tracer_set_sampler(t, "traceidratio", "0", err, sizeof(err)), 0);
	assert_int_equal(count_sampled(t, 50, false), 0);
	assert_int_equal(
	    craft_tracer_set_sampler(t, "parentbased_traceidratio", "1", err, sizeof(err)), 0);
	assert_int_equal(count_sampled(t, 50, false), 50);
	const char *bad_names[] = {"always", "parentbased_", "ratio", "AlwaysOn"};
	for (size_t i = 0; i < CRAFT_ARRAY_LEN(bad_names); i++) {
		assert_int_equal(craft_tracer_set_sampler(t, bad_names[i], NULL, err, sizeof(err)),
				 CRAFT_EINVAL);
		assert_non_null(strstr(err, "OTEL_TRACES_SAMPLER"));
	}
	const char *bad_args[] = {"1.5", "-0.1", "half", "0.5x", "nan"};
	for (size_t i = 0; i < CRAFT_ARRAY_LEN(bad_args); i++) {
		assert_int_equal(
		    craft_tracer_set_sampler(t, "traceidratio", bad_args[i], err, sizeof(err)),
		    CRAFT_EINVAL);
		assert_non_null(strstr(err, "OTEL_TRACES_SAMPLER_ARG"));
	}
	craft_tracer_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_traceparent_table),
	    cmocka_unit_test(test_traceparent_fields),
	    cmocka_unit_test(test_traceparent_length_is_respected),
	    cmocka_unit_test(test_traceparent_round_trip),
	    cmocka_unit_test(test_tracestate_table),
	    cmocka_unit_test(test_tracestate_limits),
	    cmocka_unit_test(test_ids_random),
	    cmocka_unit_test(test_span_new_trace),
	    cmocka_unit_test(test_span_local_parent),
	    cmocka_unit_test(test_span_remote_parent),
	    cmocka_unit_test(test_attributes),
	    cmocka_unit_test(test_long_text_cut_on_utf8_boundary),
	    cmocka_unit_test(test_sink_receives_span),
	    cmocka_unit_test(test_null_safety),
	    cmocka_unit_test(test_samplers),
	};
	return cmocka_run_group_tests_name("trace", tests, NULL, NULL);
}
