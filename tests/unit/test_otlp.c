/* OTLP/JSON encoding of spans and the exporter's bounded queue. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "craft/common.h"
#include "craft/log.h"
#include "craft/otlp.h"

static const char *attr(json_t *list, const char *key, const char *type)
{
	size_t i;
	json_t *a;
	json_array_foreach (list, i, a) {
		if (strcmp(json_string_value(json_object_get(a, "key")), key) == 0) {
			json_t *v = json_object_get(json_object_get(a, "value"), type);
			return json_is_string(v) ? json_string_value(v)
						 : (json_is_true(v) ? "true" : "false");
		}
	}
	return NULL;
}

static void test_encode(void **state)
{
	(void)state;
	craft_tracer *t = craft_tracer_new("product", "1.2.3", "staging");
	craft_trace_ctx remote;
	const char *tp = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
	assert_int_equal(craft_traceparent_parse(tp, strlen(tp), &remote), CRAFT_OK);
	craft_span *server = craft_span_start(t, NULL, &remote, CRAFT_SPAN_SERVER, "GET /x");
	craft_span *client = craft_span_start(t, server, NULL, CRAFT_SPAN_CLIENT, "SELECT");
	craft_span_set_str(client, "db.system", "postgresql");
	craft_span_set_int(server, "http.response.status_code", 503);
	craft_span_set_bool(server, "retry", true);
	craft_span_set_error(server, "server error");
	craft_span *spans[] = {server, client};
	json_t *resource = craft_otlp_resource(t, NULL, false, "i-1", NULL);
	size_t encoded = 0;
	json_t *doc = craft_otlp_encode(resource, spans, 2, &encoded);
	json_decref(resource);
	assert_int_equal(encoded, 2);
	json_t *rs = json_array_get(json_object_get(doc, "resourceSpans"), 0);
	json_t *res = json_object_get(json_object_get(rs, "resource"), "attributes");
	assert_string_equal(attr(res, "service.name", "stringValue"), "product");
	assert_string_equal(attr(res, "service.version", "stringValue"), "1.2.3");
	assert_string_equal(attr(res, "service.instance.id", "stringValue"), "i-1");
	assert_string_equal(attr(res, "deployment.environment.name", "stringValue"), "staging");
	assert_string_equal(attr(res, "telemetry.sdk.version", "stringValue"), CRAFT_VERSION);
	json_t *list =
	    json_object_get(json_array_get(json_object_get(rs, "scopeSpans"), 0), "spans");
	assert_int_equal(json_array_size(list), 2);
	json_t *s0 = json_array_get(list, 0), *s1 = json_array_get(list, 1);
	assert_string_equal(json_string_value(json_object_get(s0, "traceId")),
			    "4bf92f3577b34da6a3ce929d0e0e4736");
	assert_string_equal(json_string_value(json_object_get(s0, "parentSpanId")),
			    "00f067aa0ba902b7");
	assert_string_equal(json_string_value(json_object_get(s1, "parentSpanId")),
			    json_string_value(json_object_get(s0, "spanId")));
	assert_int_equal(json_integer_value(json_object_get(s0, "kind")), 2);
	assert_int_equal(json_integer_value(json_object_get(s1, "kind")), 3);
	assert_string_equal(
	    attr(json_object_get(s0, "attributes"), "http.response.status_code", "intValue"),
	    "503");
	assert_string_equal(attr(json_object_get(s0, "attributes"), "retry", "boolValue"), "true");
	json_t *status = json_object_get(s0, "status");
	assert_int_equal(json_integer_value(json_object_get(status, "code")), 2);
	assert_string_equal(json_string_value(json_object_get(status, "message")), "server error");
	assert_int_equal(json_integer_value(json_object_get(json_object_get(s1, "status"), "code")),
			 0);
	assert_true(json_is_string(json_object_get(s0, "startTimeUnixNano")));
	json_decref(doc);
	craft_span_free(client);
	craft_span_free(server);
	craft_tracer_free(t);
}

/* OTEL_RESOURCE_ATTRIBUTES: pairs first, ours where the list is silent;
 * OTEL_SERVICE_NAME wins over the list's service.name; a bad list is ignored. */
static void test_resource_attributes(void **state)
{
	(void)state;
	craft_tracer *t = craft_tracer_new("auth", "9.9", "production");
	bool bad = true;
	json_t *r = craft_otlp_resource(t,
					" k8s.pod.name = auth-7f9 ,service.name=idp, "
					"team=paper%20folders,service.instance.id=pod-1",
					false, "uuid-x", &bad);
	assert_false(bad);
	assert_string_equal(attr(r, "k8s.pod.name", "stringValue"), "auth-7f9");
	assert_string_equal(attr(r, "team", "stringValue"), "paper folders");
	assert_string_equal(attr(r, "service.name", "stringValue"), "idp");
	assert_string_equal(attr(r, "service.instance.id", "stringValue"), "pod-1");
	assert_string_equal(attr(r, "service.version", "stringValue"), "9.9");
	assert_string_equal(attr(r, "telemetry.sdk.name", "stringValue"), "craft");
	json_decref(r);
	r = craft_otlp_resource(t, "service.name=idp", true, "uuid-x", &bad);
	assert_string_equal(attr(r, "service.name", "stringValue"), "auth");
	json_decref(r);
	const char *invalid[] = {"novalue", "a=1,,b=2", "=x", "a=%zz", "a=%00", "a=%4"};
	for (size_t i = 0; i < CRAFT_ARRAY_LEN(invalid); i++) {
		r = craft_otlp_resource(t, invalid[i], false, "uuid-x", &bad);
		if (!bad)
			fail_msg("accepted %s", invalid[i]);
		assert_string_equal(attr(r, "service.name", "stringValue"), "auth");
		assert_string_equal(attr(r, "service.instance.id", "stringValue"), "uuid-x");
		json_decref(r);
	}
	craft_tracer_free(t);
}

/* A span whose name or attributes are not valid UTF-8 is sent repaired. */
static void test_invalid_utf8_repaired(void **state)
{
	(void)state;
	craft_tracer *t = craft_tracer_new("frontend", "1", "development");
	craft_span *s = craft_span_start(t, NULL, NULL, CRAFT_SPAN_SERVER, "GET /\xff");
	craft_span_set_str(s, "url.path", "/caf\xc3(");
	craft_span_set_error(s, "bad \x80");
	json_t *resource = craft_otlp_resource(t, NULL, false, "i", NULL);
	size_t encoded = 0;
	json_t *doc = craft_otlp_encode(resource, &s, 1, &encoded);
	assert_int_equal(encoded, 1);
	json_t *span = json_array_get(
	    json_object_get(
		json_array_get(
		    json_object_get(json_array_get(json_object_get(doc, "resourceSpans"), 0),
				    "scopeSpans"),
		    0),
		"spans"),
	    0);
	assert_string_equal(json_string_value(json_object_get(span, "name")), "GET /\xef\xbf\xbd");
	assert_string_equal(attr(json_object_get(span, "attributes"), "url.path", "stringValue"),
			    "/caf\xef\xbf\xbd(");
	json_decref(doc);
	json_decref(resource);
	craft_span_free(s);
	craft_tracer_free(t);
}

static void test_absent_collector_drops(void **state)
{
	(void)state;
	FILE *devnull = fopen("/dev/null", "w");
	craft_log_init("test", CRAFT_LOG_ERROR, devnull);
	craft_tracer *t = craft_tracer_new("svc", "1", "test");
	craft_otlp *e = NULL;
	/* port 9 (discard) is closed here: every export fails fast */
	struct craft_otlp_options o = {.endpoint = "http://127.0.0.1:9",
				       .max_queue = 4,
				       .max_batch = 2,
				       .schedule_delay_ms = 20,
				       .timeout_ms = 200};
	assert_int_equal(craft_otlp_start(t, &o, &e), CRAFT_OK);
	for (int i = 0; i < 40; i++)
		craft_span_end(craft_span_start(t, NULL, NULL, CRAFT_SPAN_SERVER, "x"));
	struct craft_otlp_stats st;
	craft_otlp_stats(e, &st);
	/* at most the queue plus one batch in flight were accepted */
	assert_true(st.dropped >= 40 - 4 - 2);
	assert_int_equal(st.exported, 0);
	assert_true(st.queued <= 4);
	craft_otlp_stop(e); /* flushes, bounded by the timeout */
	craft_tracer_free(t);
	fclose(devnull);
}

static void test_bad_options(void **state)
{
	(void)state;
	craft_tracer *t = craft_tracer_new("svc", "1", "test");
	craft_otlp *e = NULL;
	struct craft_otlp_options o = {.endpoint = ""};
	assert_int_equal(craft_otlp_start(t, &o, &e), CRAFT_EINVAL);
	craft_otlp_stop(NULL);
	craft_tracer_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_encode),
	    cmocka_unit_test(test_resource_attributes),
	    cmocka_unit_test(test_invalid_utf8_repaired),
	    cmocka_unit_test(test_absent_collector_drops),
	    cmocka_unit_test(test_bad_options),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
