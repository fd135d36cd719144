/* Unit tests for lib/craft/log.c: JSON lines, levels, span ids, bad formats. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <pthread.h>

#include <cmocka.h>
#include <jansson.h>

#include "craft/common.h"
#include "craft/log.h"
#include "craft/trace.h"

#define MAX_LINES 512

struct captured {
	size_t count;
	json_t *lines[MAX_LINES];
};

static FILE *start(enum craft_log_level min)
{
	FILE *f = tmpfile();
	assert_non_null(f);
	craft_log_init("test-svc", min, f);
	return f;
}

/* Read every line back; each must be one JSON object. */
static void capture(FILE *f, struct captured *out)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;

	out->count = 0;
	rewind(f);
	while ((n = getline(&line, &cap, f)) > 0) {
		json_error_t error;
		assert_true(line[n - 1] == '\n');
		assert_null(memchr(line, '\n', (size_t)n - 1));
		json_t *obj = json_loadb(line, (size_t)n, 0, &error);
		if (!obj)
			fail_msg("not JSON: %s (%s)", line, error.text);
		assert_true(json_is_object(obj));
		assert_true(out->count < MAX_LINES);
		out->lines[out->count++] = obj;
	}
	free(line);
	fclose(f);
	craft_log_init("craft", CRAFT_LOG_INFO, NULL);
}

static void release(struct captured *c)
{
	for (size_t i = 0; i < c->count; i++)
		json_decref(c->lines[i]);
}

static const char *str_field(const json_t *obj, const char *key)
{
	return json_string_value(json_object_get(obj, key));
}

static void test_fields(void **state)
{
	(void)state;
	struct captured c;
	FILE *f = start(CRAFT_LOG_DEBUG);
	time_t before = time(NULL);

	craft_log(CRAFT_LOG_INFO, NULL, "server started", "{s:i, s:s, s:b}", "port", 8000, "host",
		  "0.0.0.0", "tls", 0);
	capture(f, &c);
	assert_int_equal(c.count, 1);
	json_t *line = c.lines[0];

	const char *ts = str_field(line, "ts");
	assert_non_null(ts);
	assert_int_equal(strlen(ts), 24); /* 2026-11-25T13:31:32.123Z */
	assert_int_equal(ts[10], 'T');
	assert_int_equal(ts[19], '.');
	assert_int_equal(ts[23], 'Z');
	struct tm tm = {0};
	assert_non_null(strptime(ts, "%Y-%m-%dT%H:%M:%S", &tm));
	time_t when = timegm(&tm);
	assert_true(when >= before - 1 && when <= time(NULL) + 1);

	assert_string_equal(str_field(line, "level"), "info");
	assert_string_equal(str_field(line, "service"), "test-svc");
	assert_string_equal(str_field(line, "msg"), "server started");
	assert_int_equal(json_integer_value(json_object_get(line, "port")), 8000);
	assert_string_equal(str_field(line, "host"), "0.0.0.0");
	assert_true(json_is_false(json_object_get(line, "tls")));
	assert_null(json_object_get(line, "trace_id"));
	assert_null(json_object_get(line, "span_id"));
	assert_null(json_object_get(line, "log_error"));

	/* Standard fields come first, in order. */
	const char *order[] = {"ts", "level", "service", "msg", "port"};
	void *iter = json_object_iter(line);
	for (size_t i = 0; i < CRAFT_ARRAY_LEN(order); i++) {
		assert_non_null(iter);
		assert_string_equal(json_object_iter_key(iter), order[i]);
		iter = json_object_iter_next(line, iter);
	}
	release(&c);
}

static void test_levels(void **state)
{
	(void)state;
	struct captured c;
	FILE *f = start(CRAFT_LOG_WARN);

	assert_false(craft_log_enabled(CRAFT_LOG_DEBUG));
	assert_false(craft_log_enabled(CRAFT_LOG_INFO));
	assert_true(craft_log_enabled(CRAFT_LOG_WARN));
	craft_log(CRAFT_LOG_DEBUG, NULL, "d", NULL);
	craft_log(CRAFT_LOG_INFO, NULL, "i", NULL);
	craft_log(CRAFT_LOG_WARN, NULL, "w", NULL);
	craft_log(CRAFT_LOG_ERROR, NULL, "e", NULL);
	capture(f, &c);
	assert_int_equal(c.count, 2);
	assert_string_equal(str_field(c.lines[0], "level"), "warn");
	assert_string_equal(str_field(c.lines[0], "msg"), "w");
	assert_string_equal(str_field(c.lines[1], "level"), "error");
	release(&c);

	f = start(CRAFT_LOG_DEBUG);
	craft_log(CRAFT_LOG_DEBUG, NULL, "d", NULL);
	capture(f, &c);
	assert_int_equal(c.count, 1);
	assert_string_equal(str_field(c.lines[0], "level"), "debug");
	release(&c);
}

static void test_level_parse(void **state)
{
	(void)state;
	enum craft_log_level level = CRAFT_LOG_ERROR;
	assert_int_equal(craft_log_level_parse("debug", &level), 0);
	assert_int_equal(level, CRAFT_LOG_DEBUG);
	assert_int_equal(craft_log_level_parse("INFO", &level), 0);
	assert_int_equal(level, CRAFT_LOG_INFO);
	assert_int_equal(craft_log_level_parse("Warning", &level), 0);
	assert_int_equal(level, CRAFT_LOG_WARN);
	assert_int_equal(craft_log_level_parse("warn", &level), 0);
	assert_int_equal(craft_log_level_parse("ERROR", &level), 0);
	assert_int_equal(level, CRAFT_LOG_ERROR);
	assert_int_equal(craft_log_level_parse("verbose", &level), CRAFT_EINVAL);
	assert_int_equal(craft_log_level_parse("", &level), CRAFT_EINVAL);
	assert_int_equal(craft_log_level_parse(NULL, &level), CRAFT_EINVAL);
	assert_int_equal(level, CRAFT_LOG_ERROR); /* untouched on error */
}

static void test_span_ids(void **state)
{
	(void)state;
	struct captured c;
	FILE *f = start(CRAFT_LOG_INFO);
	craft_span *span = craft_span_start(NULL, NULL, NULL, CRAFT_SPAN_SERVER, "GET /");
	char trace_hex[CRAFT_TRACE_ID_HEX], span_hex[CRAFT_SPAN_ID_HEX];

	craft_trace_id_hex(craft_span_context(span)->trace_id, trace_hex);
	craft_span_id_hex(craft_span_context(span)->span_id, span_hex);
	craft_log(CRAFT_LOG_ERROR, span, "query failed", "{s:s}", "db.system", "postgresql");
	craft_span_end(span);
	capture(f, &c);
	assert_int_equal(c.count, 1);
	assert_string_equal(str_field(c.lines[0], "trace_id"), trace_hex);
	assert_string_equal(str_field(c.lines[0], "span_id"), span_hex);
	assert_string_equal(str_field(c.lines[0], "db.system"), "postgresql");
	release(&c);
}

static void test_bad_format_and_text(void **state)
{
	(void)state;
	struct captured c;
	FILE *f = start(CRAFT_LOG_INFO);

	craft_log(CRAFT_LOG_INFO, NULL, "unterminated", "{s:i", "n", 1);
	craft_log(CRAFT_LOG_INFO, NULL, "not an object", "[i]", 1);
	craft_log(CRAFT_LOG_INFO, NULL, "bad utf8 field", "{s:s}", "k", "\xff\xfe");
	craft_log(CRAFT_LOG_INFO, NULL, "null string", "{s:s}", "k", (const char *)NULL);
	craft_log(CRAFT_LOG_INFO, NULL, "kept", "{s:s, s:i}", "k", "a\xff", "n", 7);
	capture(f, &c);
	assert_int_equal(c.count, 5);
	/* flat formats keep every field: bad text repaired, NULL as null */
	assert_string_equal(str_field(c.lines[2], "k"), "\xef\xbf\xbd\xef\xbf\xbd");
	assert_null(json_object_get(c.lines[2], "log_error"));
	assert_true(json_is_null(json_object_get(c.lines[3], "k")));
	assert_null(json_object_get(c.lines[3], "log_error"));
	assert_string_equal(str_field(c.lines[4], "k"), "a\xef\xbf\xbd");
	assert_int_equal(json_integer_value(json_object_get(c.lines[4], "n")), 7);
	for (size_t i = 0; i < 2; i++) {
		const char *err = str_field(c.lines[i], "log_error");
		if (!err)
			fail_msg("line %zu has no log_error", i);
		assert_true(strlen(err) > 0);
		assert_string_equal(str_field(c.lines[i], "level"), "info");
	}
	assert_string_equal(str_field(c.lines[0], "msg"), "unterminated");
	assert_null(json_object_get(c.lines[0], "n"));
	release(&c);
}

static void test_reserved_fields_kept(void **state)
{
	(void)state;
	struct captured c;
	FILE *f = start(CRAFT_LOG_INFO);

	craft_log(CRAFT_LOG_INFO, NULL, "real", "{s:s, s:s, s:s}", "msg", "fake", "level", "debug",
		  "extra", "yes");
	capture(f, &c);
	assert_int_equal(c.count, 1);
	assert_string_equal(str_field(c.lines[0], "msg"), "real");
	assert_string_equal(str_field(c.lines[0], "level"), "info");
	assert_string_equal(str_field(c.lines[0], "extra"), "yes");
	release(&c);
}

static void test_odd_messages(void **state)
{
	(void)state;
	struct captured c;
	FILE *f = start(CRAFT_LOG_INFO);
	char *huge = malloc(100000);
	assert_non_null(huge);
	memset(huge, 'x', 99999);
	huge[99999] = '\0';

	craft_log(CRAFT_LOG_INFO, NULL, "line\nbreak \"quoted\"", NULL);
	craft_log(CRAFT_LOG_INFO, NULL, "caf\xc3\xa9 \xff bad", NULL);
	craft_log(CRAFT_LOG_INFO, NULL, NULL, NULL);
	craft_log(CRAFT_LOG_INFO, NULL, huge, NULL);
	craft_log(CRAFT_LOG_INFO, NULL, "huge field", "{s:s}", "body", huge);
	free(huge);
	capture(f, &c);
	assert_int_equal(c.count, 5);
	assert_string_equal(str_field(c.lines[0], "msg"), "line\nbreak \"quoted\"");
	assert_string_equal(str_field(c.lines[1], "msg"), "caf?? ? bad");
	assert_string_equal(str_field(c.lines[2], "msg"), "");
	assert_int_equal(strlen(str_field(c.lines[3], "msg")), 4096);
	assert_null(json_object_get(c.lines[4], "body"));
	assert_non_null(str_field(c.lines[4], "log_error"));
	assert_string_equal(str_field(c.lines[4], "msg"), "huge field");
	release(&c);
}

static void test_filtered_o_reference_released(void **state)
{
	(void)state;
	FILE *f = start(CRAFT_LOG_INFO);
	struct captured c;
	json_t *value = json_object();

	json_incref(value); /* ours */
	craft_log(CRAFT_LOG_DEBUG, NULL, "filtered", "{s:o}", "v", value);
	assert_int_equal(value->refcount, 1);
	json_incref(value);
	craft_log(CRAFT_LOG_INFO, NULL, "written", "{s:o}", "v", value);
	assert_int_equal(value->refcount, 1);
	json_decref(value);
	capture(f, &c);
	assert_int_equal(c.count, 1);
	assert_true(json_is_object(json_object_get(c.lines[0], "v")));
	release(&c);
}

#define THREADS    4
#define PER_THREAD 100

static void *log_many(void *arg)
{
	intptr_t id = (intptr_t)arg;
	for (int i = 0; i < PER_THREAD; i++)
		craft_log(
		    CRAFT_LOG_INFO, NULL, "from a thread", "{s:i, s:i, s:s}", "thread", (int)id,
		    "i", i, "pad",
		    "some padding so that lines are long enough to tear if writes interleave");
	return NULL;
}

static void test_threads_do_not_interleave(void **state)
{
	(void)state;
	FILE *f = start(CRAFT_LOG_INFO);
	pthread_t threads[THREADS];
	struct captured c;
	int seen[THREADS] = {0};

	for (intptr_t i = 0; i < THREADS; i++)
		assert_int_equal(pthread_create(&threads[i], NULL, log_many, (void *)i), 0);
	for (int i = 0; i < THREADS; i++)
		pthread_join(threads[i], NULL);
	capture(f, &c); /* fails on any torn line */
	assert_int_equal(c.count, THREADS * PER_THREAD);
	for (size_t i = 0; i < c.count; i++) {
		json_int_t t = json_integer_value(json_object_get(c.lines[i], "thread"));
		assert_in_range(t, 0, THREADS - 1);
		seen[t]++;
	}
	for (int i = 0; i < THREADS; i++)
		assert_int_equal(seen[i], PER_THREAD);
	release(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_fields),
	    cmocka_unit_test(test_levels),
	    cmocka_unit_test(test_level_parse),
	    cmocka_unit_test(test_span_ids),
	    cmocka_unit_test(test_bad_format_and_text),
	    cmocka_unit_test(test_reserved_fields_kept),
	    cmocka_unit_test(test_odd_messages),
	    cmocka_unit_test(test_filtered_o_reference_released),
	    cmocka_unit_test(test_threads_do_not_interleave),
	};
	return cmocka_run_group_tests_name("log", tests, NULL, NULL);
}
