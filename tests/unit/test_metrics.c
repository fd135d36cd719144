/* Unit tests for lib/craft/metrics.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <ctype.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "craft/common.h"
#include "craft/metrics.h"

#define OUT_MAX (4 * 1024 * 1024)

static char *scrape(craft_metrics *m)
{
	craft_buf out;
	craft_buf_init(&out, OUT_MAX);
	assert_int_equal(craft_metrics_render(m, &out), CRAFT_OK);
	return craft_buf_steal(&out, NULL);
}

/* The lines of `text` that start with `prefix`, concatenated. */
static char *lines_with(const char *text, const char *prefix)
{
	craft_buf b;
	craft_buf_init(&b, OUT_MAX);
	size_t plen = strlen(prefix);
	for (const char *line = text; *line;) {
		const char *nl = strchr(line, '\n');
		size_t len = nl ? (size_t)(nl - line) + 1 : strlen(line);
		if (strncmp(line, prefix, plen) == 0)
			assert_int_equal(craft_buf_append(&b, line, len), CRAFT_OK);
		line += len;
	}
	return craft_buf_steal(&b, NULL);
}

static size_t count_lines_with(const char *text, const char *prefix)
{
	char *sel = lines_with(text, prefix);
	size_t n = 0;
	for (const char *p = sel; (p = strchr(p, '\n')) != NULL; p++)
		n++;
	free(sel);
	return n;
}

/* The value of the sample line that begins with exactly `series` + ' '. */
static double sample(const char *text, const char *series)
{
	size_t len = strlen(series);
	for (const char *line = text; *line;) {
		if (strncmp(line, series, len) == 0 && line[len] == ' ')
			return strtod(line + len + 1, NULL);
		const char *nl = strchr(line, '\n');
		if (!nl)
			break;
		line = nl + 1;
	}
	fail_msg("no sample %s", series);
	return NAN;
}

static void test_requests_exact(void **state)
{
	(void)state;
	craft_metrics *m = craft_metrics_new("product");
	craft_metrics_observe_request(m, "GET", "/api/products", 200, 0.003);
	craft_metrics_observe_request(m, "GET", "/api/products", 200, 0.1); /* le is inclusive */
	craft_metrics_observe_request(m, "GET", "/api/products", 200, 0.2);
	craft_metrics_observe_request(m, "POST", "/api/origamis/{id}/vote", 401, 12.0);
	char *text = scrape(m);

	char *got = lines_with(text, "craft_http_requests_total");
	assert_string_equal(got, "craft_http_requests_total{method=\"GET\",route=\"/api/products\","
				 "status=\"200\"} 3\n"
				 "craft_http_requests_total{method=\"POST\",route=\"/api/origamis/"
				 "{id}/vote\",status=\"401\"} 1\n");
	free(got);

	got = lines_with(text, "craft_http_request_duration_seconds");
	const char *L = "{method=\"GET\",route=\"/api/products\",status=\"200\"";
	const char *P = "{method=\"POST\",route=\"/api/origamis/{id}/vote\",status=\"401\"";
	char want[4096];
	snprintf(want, sizeof(want),
		 "craft_http_request_duration_seconds_bucket%s,le=\"0.001\"} 0\n"
		 "craft_http_request_duration_seconds_bucket%s,le=\"0.0025\"} 0\n"
		 "craft_http_request_duration_seconds_bucket%s,le=\"0.005\"} 1\n"
		 "craft_http_request_duration_seconds_bucket%s,le=\"0.01\"} 1\n"
		 "craft_http_request_duration_seconds_bucket%s,le=\"0.025\"} 1\n"
		 "craft_http_request_duration_seconds_bucket%s,le=\"0.05\"} 1\n"
		 "craft_http_request_duration_seconds_bucket%s,le=\"0.1\"} 2\n"
		 "craft_http_request_duration_seconds_bucket%s,le=\"0.25\"} 3\n"
		 "craft_http_request_duration_seconds_bucket%s,le=\"0.5\"} 3\n"
		 "craft_http_request_duration_seconds_bucket%s,le=\"1\"} 3\n"
		 "craft_http_request_duration_seconds_bucket%s,le=\"2.5\"} 3\n"
		 "craft_http_request_duration_seconds_bucket%s,le=\"5\"} 3\n"
		 "craft_http_request_duration_seconds_bucket%s,le=\"10\"} 3\n"
		 "craft_http_request_duration_seconds_bucket%s,le=\"+Inf\"} 3\n"
		 "craft_http_request_duration_seconds_sum%s} 0.303\n"
		 "craft_http_request_duration_seconds_count%s} 3\n",
		 L, L, L, L, L, L, L, L, L, L, L, L, L, L, L, L);
	char tail[1024];
	snprintf(tail, sizeof(tail),
		 "craft_http_request_duration_seconds_bucket%s,le=\"10\"} 0\n"
		 "craft_http_request_duration_seconds_bucket%s,le=\"+Inf\"} 1\n"
		 "craft_http_request_duration_seconds_sum%s} 12\n"
		 "craft_http_request_duration_seconds_count%s} 1\n",
		 P, P, P, P);
	assert_int_equal(strncmp(got, want, strlen(want)), 0);
	size_t glen = strlen(got), tlen = strlen(tail);
	assert_true(glen > tlen);
	assert_string_equal(got + glen - tlen, tail);
	assert_int_equal(count_lines_with(text, "craft_http_request_duration_seconds_bucket"), 28);
	free(got);

	assert_non_null(strstr(text, "# TYPE craft_http_requests_total counter\n"));
	assert_non_null(strstr(text, "# TYPE craft_http_request_duration_seconds histogram\n"));
	assert_non_null(strstr(text, "craft_service_info{service=\"product\"} 1\n"));
	free(text);
	craft_metrics_free(m);
}

static void test_labels(void **state)
{
	(void)state;
	craft_metrics *m = craft_metrics_new("we\"ird\\");
	craft_metrics_observe_request(m, "GET", "/a\"b\\c\nd", 200, 0.01);
	craft_metrics_observe_request(m, "get", "/x", 200, 0.01);
	craft_metrics_observe_request(m, "BREW", "/x", 200, 0.01);
	craft_metrics_observe_request(m, NULL, NULL, 404, -1.0);
	craft_metrics_observe_request(m, "DELETE", "/x", 599, NAN);
	char *text = scrape(m);
	assert_non_null(strstr(text, "craft_http_requests_total{method=\"GET\","
				     "route=\"/a\\\"b\\\\c\\nd\",status=\"200\"} 1\n"));
	/* Unknown methods (case matters) are folded into OTHER. */
	assert_non_null(strstr(text, "craft_http_requests_total{method=\"OTHER\",route=\"/x\","
				     "status=\"200\"} 2\n"));
	assert_non_null(strstr(text, "craft_http_requests_total{method=\"OTHER\","
				     "route=\"unmatched\",status=\"404\"} 1\n"));
	/* Negative and NaN durations count as zero. */
	assert_non_null(strstr(text, "craft_http_request_duration_seconds_bucket{method=\"DELETE\","
				     "route=\"/x\",status=\"599\",le=\"0.001\"} 1\n"));
	assert_non_null(strstr(text, "craft_http_request_duration_seconds_sum{method=\"DELETE\","
				     "route=\"/x\",status=\"599\"} 0\n"));
	assert_non_null(strstr(text, "craft_service_info{service=\"we\\\"ird\\\\\"} 1\n"));

	/* A route too long to be a pattern is recorded as "other". */
	char longroute[CRAFT_METRICS_ROUTE_MAX + 1];
	memset(longroute, 'r', sizeof(longroute) - 1);
	longroute[sizeof(longroute) - 1] = '\0';
	craft_metrics_observe_request(m, "GET", longroute, 200, 0.01);
	free(text);
	text = scrape(m);
	assert_non_null(strstr(text, "craft_http_requests_total{method=\"GET\",route=\"other\","
				     "status=\"200\"} 1\n"));
	free(text);
	craft_metrics_free(m);
}

static double read_double(void *ctx)
{
	return *(double *)ctx;
}

static void test_callbacks(void **state)
{
	(void)state;
	craft_metrics *m = craft_metrics_new("svc");
	double pool = 3, hits = 0, ratio = 0.1, big = 1e20, nan = NAN, inf = -INFINITY;
	assert_int_equal(craft_metrics_add_gauge(m, "craft_pg_pool_in_use", "Connections in use.",
						 read_double, &pool),
			 CRAFT_OK);
	assert_int_equal(craft_metrics_add_counter(m, "craft_cache_hits_total",
						   "Cache hits\\misses\nsecond line", read_double,
						   &hits),
			 CRAFT_OK);
	assert_int_equal(craft_metrics_add_gauge(m, "ratio", NULL, read_double, &ratio), CRAFT_OK);
	assert_int_equal(craft_metrics_add_gauge(m, "big:value", "", read_double, &big), CRAFT_OK);
	assert_int_equal(craft_metrics_add_gauge(m, "_nan", "", read_double, &nan), CRAFT_OK);
	assert_int_equal(craft_metrics_add_gauge(m, "neg_inf", "", read_double, &inf), CRAFT_OK);

	char *text = scrape(m);
	assert_non_null(strstr(text, "# HELP craft_pg_pool_in_use Connections in use.\n"
				     "# TYPE craft_pg_pool_in_use gauge\n"
				     "craft_pg_pool_in_use 3\n"));
	assert_non_null(strstr(text, "# HELP craft_cache_hits_total Cache hits\\\\misses\\nsecond "
				     "line\n# TYPE craft_cache_hits_total counter\n"
				     "craft_cache_hits_total 0\n"));
	assert_non_null(strstr(text, "\nratio 0.1\n"));
	assert_non_null(strstr(text, "\nbig:value 1e+20\n"));
	assert_non_null(strstr(text, "\n_nan NaN\n"));
	assert_non_null(strstr(text, "\nneg_inf -Inf\n"));
	free(text);

	/* Values are read at each scrape. */
	pool = 7;
	hits = 12345;
	text = scrape(m);
	assert_non_null(strstr(text, "\ncraft_pg_pool_in_use 7\n"));
	assert_non_null(strstr(text, "\ncraft_cache_hits_total 12345\n"));
	free(text);

	/* Registration errors. */
	assert_int_equal(craft_metrics_add_gauge(m, "ratio", "", read_double, &pool),
			 CRAFT_ECONFLICT);
	assert_int_equal(
	    craft_metrics_add_counter(m, "craft_http_requests_total", "", read_double, &pool),
	    CRAFT_ECONFLICT);
	assert_int_equal(craft_metrics_add_gauge(m, "process_open_fds", "", read_double, &pool),
			 CRAFT_ECONFLICT);
	assert_int_equal(craft_metrics_add_gauge(m, "9lives", "", read_double, &pool),
			 CRAFT_EINVAL);
	assert_int_equal(craft_metrics_add_gauge(m, "has space", "", read_double, &pool),
			 CRAFT_EINVAL);
	assert_int_equal(craft_metrics_add_gauge(m, "a-b", "", read_double, &pool), CRAFT_EINVAL);
	assert_int_equal(craft_metrics_add_gauge(m, "", "", read_double, &pool), CRAFT_EINVAL);
	assert_int_equal(craft_metrics_add_gauge(m, NULL, "", read_double, &pool), CRAFT_EINVAL);
	assert_int_equal(craft_metrics_add_gauge(m, "no_reader", "", NULL, &pool), CRAFT_EINVAL);
	char long_help[CRAFT_METRICS_HELP_MAX + 2];
	memset(long_help, 'h', sizeof(long_help) - 1);
	long_help[sizeof(long_help) - 1] = '\0';
	assert_int_equal(craft_metrics_add_gauge(m, "long_help", long_help, read_double, &pool),
			 CRAFT_EINVAL);

	/* Bounded number of registrations. */
	int added = 6;
	char name[32];
	for (; added < CRAFT_METRICS_MAX_CUSTOM; added++) {
		snprintf(name, sizeof(name), "g%d", added);
		assert_int_equal(craft_metrics_add_gauge(m, name, "", read_double, &pool),
				 CRAFT_OK);
	}
	assert_int_equal(craft_metrics_add_gauge(m, "one_more", "", read_double, &pool),
			 CRAFT_ETOOBIG);
	text = scrape(m);
	assert_int_equal(count_lines_with(text, "# TYPE g"), CRAFT_METRICS_MAX_CUSTOM - 6);
	free(text);
	craft_metrics_free(m);
}

/* A collector's snapshot: how many times it was taken, and its figures. */
struct pool_figures {
	int snapshots;
	double size, waits;
};

static void collect_pool(void *ctx, double *values)
{
	struct pool_figures *f = ctx;
	f->snapshots++;
	values[0] = f->size;
	values[1] = f->waits;
}

static void test_collector(void **state)
{
	(void)state;
	static const struct craft_metric_desc descs[] = {
	    {"pool_size", "Connections.", CRAFT_METRIC_GAUGE},
	    {"pool_waits_total", "Waits.", CRAFT_METRIC_COUNTER},
	};
	craft_metrics *m = craft_metrics_new("svc");
	struct pool_figures f = {.size = 4, .waits = 9};
	double other = 1;
	assert_int_equal(craft_metrics_add_gauge(m, "before", "", read_double, &other), CRAFT_OK);
	assert_int_equal(craft_metrics_add_collector(m, descs, 2, collect_pool, &f), CRAFT_OK);
	assert_int_equal(craft_metrics_add_gauge(m, "after", "", read_double, &other), CRAFT_OK);

	char *text = scrape(m);
	assert_int_equal(f.snapshots, 1); /* one snapshot for both figures */
	assert_non_null(strstr(text, "# HELP pool_size Connections.\n# TYPE pool_size gauge\n"
				     "pool_size 4\n"));
	assert_non_null(strstr(text, "# HELP pool_waits_total Waits.\n"
				     "# TYPE pool_waits_total counter\npool_waits_total 9\n"));
	assert_true(strstr(text, "\nbefore 1\n") < strstr(text, "\npool_size 4\n"));
	assert_true(strstr(text, "\npool_waits_total 9\n") < strstr(text, "\nafter 1\n"));
	free(text);
	f.waits = 10;
	text = scrape(m);
	assert_int_equal(f.snapshots, 2);
	assert_non_null(strstr(text, "\npool_waits_total 10\n"));
	free(text);

	/* Names are checked like single figures; a refused collector adds nothing. */
	const struct craft_metric_desc taken[] = {{"fresh", "", CRAFT_METRIC_GAUGE},
						  {"pool_size", "", CRAFT_METRIC_GAUGE}};
	assert_int_equal(craft_metrics_add_collector(m, taken, 2, collect_pool, &f),
			 CRAFT_ECONFLICT);
	const struct craft_metric_desc twice[] = {{"x1", "", CRAFT_METRIC_GAUGE},
						  {"x1", "", CRAFT_METRIC_GAUGE}};
	assert_int_equal(craft_metrics_add_collector(m, twice, 2, collect_pool, &f),
			 CRAFT_ECONFLICT);
	const struct craft_metric_desc bad[] = {{"bad name", "", CRAFT_METRIC_GAUGE}};
	assert_int_equal(craft_metrics_add_collector(m, bad, 1, collect_pool, &f), CRAFT_EINVAL);
	assert_int_equal(craft_metrics_add_collector(m, descs, 2, NULL, &f), CRAFT_EINVAL);
	text = scrape(m);
	assert_null(strstr(text, "fresh"));
	assert_null(strstr(text, "x1"));
	free(text);
	assert_int_equal(craft_metrics_add_gauge(m, "fresh", "", read_double, &other), CRAFT_OK);

	/* The bound counts a collector's figures. */
	struct craft_metric_desc many[CRAFT_METRICS_MAX_CUSTOM];
	char names[CRAFT_METRICS_MAX_CUSTOM][16];
	for (size_t i = 0; i < CRAFT_METRICS_MAX_CUSTOM; i++) {
		snprintf(names[i], sizeof(names[i]), "many_%zu", i);
		many[i] = (struct craft_metric_desc){names[i], "", CRAFT_METRIC_GAUGE};
	}
	assert_int_equal(
	    craft_metrics_add_collector(m, many, CRAFT_METRICS_MAX_CUSTOM, collect_pool, &f),
	    CRAFT_ETOOBIG);
	craft_metrics_free(m);
}

static void test_series_bound(void **state)
{
	(void)state;
	craft_metrics *m = craft_metrics_new("svc");
	char route[64];
	for (int i = 0; i < CRAFT_METRICS_MAX_SERIES; i++) {
		snprintf(route, sizeof(route), "/r/%d", i);
		craft_metrics_observe_request(m, "GET", route, 200, 0.001);
	}
	/* Existing series keep counting; new ones go to route="other". */
	craft_metrics_observe_request(m, "GET", "/r/0", 200, 0.001);
	craft_metrics_observe_request(m, "GET", "/new/a", 200, 0.001);
	craft_metrics_observe_request(m, "GET", "/new/b", 200, 0.001);
	craft_metrics_observe_request(m, "POST", "/r/1", 200, 0.001); /* new combination */
	char *text = scrape(m);
	assert_int_equal(count_lines_with(text, "craft_http_requests_total{"),
			 CRAFT_METRICS_MAX_SERIES + 2);
	assert_true(sample(text, "craft_http_requests_total{method=\"GET\",route=\"/r/0\","
				 "status=\"200\"}") == 2);
	assert_true(sample(text, "craft_http_requests_total{method=\"GET\",route=\"other\","
				 "status=\"200\"}") == 2);
	assert_true(sample(text, "craft_http_requests_total{method=\"POST\",route=\"other\","
				 "status=\"200\"}") == 1);
	assert_null(strstr(text, "/new/"));
	free(text);

	/* The "other" series are bounded too; past them everything lands in one series. */
	for (int status = 100; status < 100 + CRAFT_METRICS_MAX_OTHER + 10; status++)
		craft_metrics_observe_request(m, "PUT", "/new/c", status, 0.001);
	text = scrape(m);
	assert_int_equal(count_lines_with(text, "craft_http_requests_total{"),
			 CRAFT_METRICS_MAX_SERIES + CRAFT_METRICS_MAX_OTHER + 1);
	assert_true(sample(text, "craft_http_requests_total{method=\"OTHER\",route=\"other\","
				 "status=\"0\"}") == 12);
	/* No request is lost: the counts still add up. */
	char *all = lines_with(text, "craft_http_requests_total{");
	double total = 0;
	for (const char *p = all; (p = strchr(p, '}')) != NULL; p++)
		total += strtod(p + 1, NULL);
	assert_true(total == CRAFT_METRICS_MAX_SERIES + 4 + CRAFT_METRICS_MAX_OTHER + 10);
	free(all);
	free(text);
	craft_metrics_free(m);
}

struct worker {
	craft_metrics *m;
	int id;
};

static void *observe_many(void *p)
{
	struct worker *w = p;
	char route[32];
	snprintf(route, sizeof(route), "/thread/%d", w->id);
	for (int i = 0; i < 10000; i++) {
		craft_metrics_observe_request(w->m, "GET", "/shared", 200, 0.002);
		craft_metrics_observe_request(w->m, "GET", route, 200 + i % 3, 0.5);
	}
	return NULL;
}

static void *scrape_some(void *p)
{
	craft_metrics *m = p;
	craft_buf out;
	craft_buf_init(&out, OUT_MAX);
	for (int i = 0; i < 50; i++) {
		craft_buf_reset(&out);
		assert_int_equal(craft_metrics_render(m, &out), CRAFT_OK);
	}
	craft_buf_cleanup(&out);
	return NULL;
}

static void test_concurrent(void **state)
{
	(void)state;
	craft_metrics *m = craft_metrics_new("svc");
	pthread_t threads[4], scraper;
	struct worker workers[4];
	assert_int_equal(pthread_create(&scraper, NULL, scrape_some, m), 0);
	for (int i = 0; i < 4; i++) {
		workers[i] = (struct worker){.m = m, .id = i};
		assert_int_equal(pthread_create(&threads[i], NULL, observe_many, &workers[i]), 0);
	}
	for (int i = 0; i < 4; i++)
		pthread_join(threads[i], NULL);
	pthread_join(scraper, NULL);

	char *text = scrape(m);
	const char *shared = "{method=\"GET\",route=\"/shared\",status=\"200\"}";
	char series[256];
	snprintf(series, sizeof(series), "craft_http_requests_total%s", shared);
	assert_true(sample(text, series) == 40000);
	snprintf(series, sizeof(series), "craft_http_request_duration_seconds_count%s", shared);
	assert_true(sample(text, series) == 40000);
	snprintf(series, sizeof(series), "craft_http_request_duration_seconds_sum%s", shared);
	assert_true(sample(text, series) == 80); /* 40000 x 0.002 s, summed exactly */
	assert_true(sample(text, "craft_http_request_duration_seconds_bucket{method=\"GET\","
				 "route=\"/shared\",status=\"200\",le=\"0.001\"}") == 0);
	assert_true(sample(text, "craft_http_request_duration_seconds_bucket{method=\"GET\","
				 "route=\"/shared\",status=\"200\",le=\"0.0025\"}") == 40000);
	assert_true(sample(text, "craft_http_requests_total{method=\"GET\",route=\"/thread/3\","
				 "status=\"201\"}") == 3333);
	assert_int_equal(count_lines_with(text, "craft_http_requests_total{"), 1 + 4 * 3);
	free(text);
	craft_metrics_free(m);
}

/* ---- a strict reader for the text format ---- */

static bool is_name_start(char c)
{
	return isalpha((unsigned char)c) || c == '_' || c == ':';
}

static const char *parse_name(const char *p)
{
	if (!is_name_start(*p))
		return NULL;
	while (is_name_start(*p) || isdigit((unsigned char)*p))
		p++;
	return p;
}

/* {name="value",...}: returns the position after '}' or NULL. */
static const char *parse_labels(const char *p)
{
	p++;
	while (*p != '}') {
		p = parse_name(p);
		if (!p || *p++ != '=' || *p++ != '"')
			return NULL;
		for (; *p != '"'; p++) {
			if (*p == '\n' || *p == '\0')
				return NULL;
			if (*p == '\\' && !strchr("\\\"n", *++p))
				return NULL;
		}
		p++;
		if (*p == ',')
			p++;
		else if (*p != '}')
			return NULL;
	}
	return p + 1;
}

static bool parse_value(const char *p, const char *end)
{
	size_t len = (size_t)(end - p);
	if ((len == 3 && strncmp(p, "NaN", 3) == 0) || (len == 4 && strncmp(p, "+Inf", 4) == 0) ||
	    (len == 4 && strncmp(p, "-Inf", 4) == 0))
		return true;
	char *stop;
	strtod(p, &stop);
	return len > 0 && stop == end;
}

static bool valid_line(const char *line, const char *end)
{
	if (*line == '#')
		return strncmp(line, "# HELP ", 7) == 0 || strncmp(line, "# TYPE ", 7) == 0;
	const char *p = parse_name(line);
	if (p && *p == '{')
		p = parse_labels(p);
	if (!p || *p != ' ')
		return false;
	return parse_value(p + 1, end);
}

static void test_output_parses(void **state)
{
	(void)state;
	craft_metrics *m = craft_metrics_new("svc");
	double v = 2.5;
	assert_int_equal(craft_metrics_add_gauge(m, "g", "help", read_double, &v), CRAFT_OK);
	craft_metrics_observe_request(m, "GET", "/a\"\\\n{}", 200, 0.3);
	craft_metrics_observe_request(m, "HEAD", "/", 304, 0.0001);
	char *text = scrape(m);
	size_t samples = 0;
	for (const char *line = text; *line;) {
		const char *nl = strchr(line, '\n');
		assert_non_null(nl); /* every line, the last included, ends in \n */
		if (!valid_line(line, nl))
			fail_msg("bad line: %.*s", (int)(nl - line), line);
		samples += *line != '#';
		line = nl + 1;
	}
	assert_true(samples >= 2 + 2 * 16 + 1 + 1 + 4);
	/* Each family is declared once, before its samples. */
	assert_int_equal(count_lines_with(text, "# TYPE craft_http_requests_total "), 1);
	assert_true(strstr(text, "# TYPE craft_http_requests_total") <
		    strstr(text, "craft_http_requests_total{"));
	free(text);
	craft_metrics_free(m);
}

/* Open descriptors counted another way than the library does. */
static int open_fd_count(void)
{
	int n = 0;
	for (int fd = 0; fd < 4096; fd++)
		n += fcntl(fd, F_GETFD) != -1;
	return n;
}

static void test_process_metrics(void **state)
{
	(void)state;
	craft_metrics *m = craft_metrics_new("svc");
	FILE *f = fopen("/dev/null", "r"); /* at least one more descriptor than stdio */
	assert_non_null(f);
	char *text = scrape(m);
	assert_true(sample(text, "process_resident_memory_bytes") > 100000);
	assert_true(sample(text, "process_virtual_memory_bytes") >=
		    sample(text, "process_resident_memory_bytes"));
	assert_true(sample(text, "process_cpu_seconds_total") >= 0);
	double fds = sample(text, "process_open_fds");
	assert_true(fds == open_fd_count());
	double start = sample(text, "process_start_time_seconds");
	double now = (double)time(NULL);
	assert_true(start <= now + 1);
	assert_true(start > now - 3600);
	assert_non_null(strstr(text, "# TYPE process_cpu_seconds_total counter\n"));
	free(text);
	fclose(f);
	text = scrape(m);
	assert_true(sample(text, "process_open_fds") == fds - 1);
	free(text);
	craft_metrics_free(m);
	craft_metrics_free(NULL);
}

static void test_output_bound(void **state)
{
	(void)state;
	craft_metrics *m = craft_metrics_new("svc");
	craft_metrics_observe_request(m, "GET", "/", 200, 0.01);
	craft_buf out;
	craft_buf_init(&out, OUT_MAX);
	assert_int_equal(craft_metrics_render(m, &out), CRAFT_OK);
	size_t full = out.len;
	craft_buf_cleanup(&out);

	/* Too small early on (histogram) or half-way: both fail cleanly. */
	size_t limits[] = {100, full / 2};
	for (size_t i = 0; i < CRAFT_ARRAY_LEN(limits); i++) {
		craft_buf_init(&out, limits[i] + 4);
		assert_int_equal(craft_buf_append_str(&out, "pre\n"), CRAFT_OK);
		assert_int_equal(craft_metrics_render(m, &out), CRAFT_ETOOBIG);
		assert_string_equal(out.data, "pre\n");
		craft_buf_cleanup(&out);
	}
	/* Enough room fits (process figures may gain a digit between scrapes). */
	craft_buf_init(&out, full + 16);
	assert_int_equal(craft_metrics_render(m, &out), CRAFT_OK);
	craft_buf_cleanup(&out);
	craft_metrics_free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_requests_exact), cmocka_unit_test(test_labels),
	    cmocka_unit_test(test_callbacks),      cmocka_unit_test(test_collector),
	    cmocka_unit_test(test_series_bound),   cmocka_unit_test(test_concurrent),
	    cmocka_unit_test(test_output_parses),  cmocka_unit_test(test_process_metrics),
	    cmocka_unit_test(test_output_bound),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
