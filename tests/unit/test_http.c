/* The HTTP server in-process: routes, parse-or-reply helpers, error shapes,
 * keep-alive and suspend/resume, spoken to with libcurl. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "craft/buf.h"
#include "craft/common.h"
#include "craft/http.h"
#include "craft/log.h"
#include "craft/workq.h"

static void hello(craft_req *req)
{
	craft_reply_json(req, 200, json_pack("{s:s}", "hello", "paper"));
}

static void item(craft_req *req)
{
	long id;
	if (craft_req_param_id(req, "id", &id))
		return;
	craft_reply_json(req, 200, json_pack("{s:i}", "id", (int)id));
}

static void echo(craft_req *req)
{
	json_t *body;
	if (craft_req_json_body(req, &body))
		return;
	craft_reply_json(req, 201, json_incref(body));
}

static void no_reply(craft_req *req)
{
	(void)req;
}

static void async_done(craft_req *req)
{
	craft_reply(req, 200, "text/plain", "resumed", 7);
}

static void *resume_later(void *arg)
{
	struct timespec ts = {.tv_sec = 0, .tv_nsec = 30 * 1000 * 1000};
	nanosleep(&ts, NULL);
	craft_req_resume(arg);
	return NULL;
}

static void async_start(craft_req *req)
{
	craft_req_suspend(req, async_done);
	pthread_t t;
	pthread_create(&t, NULL, resume_later, req);
	pthread_detach(t);
}

static int admin_only(craft_req *req, const char *role)
{
	const char *r = craft_req_header(req, "X-Role");
	if (!r) {
		craft_reply_error(req, 401, "Authentication required");
		return CRAFT_EINVAL;
	}
	return strcmp(r, role) == 0 ? CRAFT_OK : CRAFT_EINVAL;
}

static void secret(craft_req *req)
{
	craft_reply(req, 200, "text/plain", "ok", 2);
}

static void tagged(craft_req *req)
{
	const char *etag = "\"v7\"";
	if (craft_req_etag_matches(req, etag)) {
		craft_reply_not_modified(req, etag, 5);
		return;
	}
	craft_reply_header(req, "ETag", etag);
	craft_reply(req, 200, "text/plain", "seven", 5);
}

static craft_workq *blocking;

static void slow_reply(craft_req *req)
{
	struct timespec ts = {.tv_sec = 0, .tv_nsec = 400 * 1000 * 1000};
	nanosleep(&ts, NULL); /* a blocking call, on a worker thread */
	craft_reply(req, 200, "text/plain", "slow", 4);
}

static void slow(craft_req *req)
{
	craft_req_offload(req, blocking, slow_reply);
}

static void forgetful(craft_req *req)
{
	(void)req; /* replies nothing: the server must answer 500 */
}

static void offload_forgetful(craft_req *req)
{
	craft_req_offload(req, blocking, forgetful);
}

static const struct craft_route routes[] = {
    {.method = "GET", .pattern = "/slow", .handler = slow},
    {.method = "GET", .pattern = "/forgetful", .handler = offload_forgetful},
    {.method = "GET", .pattern = "/tagged", .handler = tagged},
    {.method = "GET", .pattern = "/hello", .handler = hello},
    {.method = "GET", .pattern = "/items/{id}", .handler = item},
    {.method = "POST", .pattern = "/echo", .handler = echo},
    {.method = "GET", .pattern = "/noreply", .handler = no_reply},
    {.method = "GET", .pattern = "/async", .handler = async_start},
    {.method = "GET", .pattern = "/admin", .handler = secret, .role = "admin"},
};

static craft_server *server;
static char base[64];

static int setup(void **state)
{
	(void)state;
	FILE *devnull = fopen("/dev/null", "w");
	craft_log_init("test", CRAFT_LOG_ERROR, devnull);
	craft_server_block_signals();
	static struct craft_server_options opts = {
	    .service = "test",
	    .host = "127.0.0.1",
	    .port = 0,
	    .threads = 2,
	    .max_body = 1024,
	    .routes = routes,
	    .nroutes = CRAFT_ARRAY_LEN(routes),
	    .authorizer = admin_only,
	};
	char err[256];
	if (craft_workq_new(8, 16, &blocking) != CRAFT_OK)
		fail_msg("workq");
	if (craft_server_start(&opts, &server, err, sizeof(err)) != CRAFT_OK)
		fail_msg("server: %s", err);
	snprintf(base, sizeof(base), "http://127.0.0.1:%u", craft_server_port(server));
	curl_global_init(CURL_GLOBAL_DEFAULT);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	craft_server_stop(server);
	craft_workq_free(blocking);
	curl_global_cleanup();
	return 0;
}

struct resp {
	long status;
	craft_buf body;
	char content_type[128];
	char allow[64];
	char content_length[32];
};

static size_t on_body(char *data, size_t size, size_t n, void *ctx)
{
	struct resp *r = ctx;
	return craft_buf_append(&r->body, data, size * n) == CRAFT_OK ? size * n : 0;
}

static size_t on_header(char *data, size_t size, size_t n, void *ctx)
{
	struct resp *r = ctx;
	size_t len = size * n;
	if (len > 7 && strncasecmp(data, "Allow: ", 7) == 0)
		snprintf(r->allow, sizeof(r->allow), "%.*s", (int)(len - 9), data + 7);
	if (len > 16 && strncasecmp(data, "Content-Length: ", 16) == 0)
		snprintf(r->content_length, sizeof(r->content_length), "%.*s", (int)(len - 18),
			 data + 16);
	return len;
}

static void request(CURL *c, const char *method, const char *path, const char *body,
		    const char *content_type, const char *extra_header, struct resp *r)
{
	char url[256];
	snprintf(url, sizeof(url), "%s%s", base, path);
	craft_buf_init(&r->body, 1 << 20);
	r->allow[0] = '\0';
	r->content_length[0] = '\0';
	struct curl_slist *h = NULL;
	if (content_type)
		h = curl_slist_append(h, content_type);
	if (extra_header)
		h = curl_slist_append(h, extra_header);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, body ? (long)strlen(body) : 0L);
	curl_easy_setopt(c, CURLOPT_HTTPGET, body ? 0L : 1L);
	if (body)
		curl_easy_setopt(c, CURLOPT_POST, 1L);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, r);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 5000L);
	CURLcode cc = curl_easy_perform(c);
	if (cc != CURLE_OK)
		fail_msg("curl %s: %s", url, curl_easy_strerror(cc));
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
	char *ct = NULL;
	curl_easy_getinfo(c, CURLINFO_CONTENT_TYPE, &ct);
	snprintf(r->content_type, sizeof(r->content_type), "%s", ct ? ct : "");
	curl_slist_free_all(h);
}

static json_t *body_json(struct resp *r)
{
	json_t *j = json_loads(r->body.data ? r->body.data : "", 0, NULL);
	if (!j)
		fail_msg("not JSON: %s", r->body.data ? r->body.data : "(empty)");
	return j;
}

static void assert_error(struct resp *r, long status, const char *path)
{
	assert_int_equal(r->status, status);
	assert_string_equal(r->content_type, "application/json");
	json_t *j = body_json(r);
	assert_int_equal(json_integer_value(json_object_get(j, "status_code")), status);
	assert_string_equal(json_string_value(json_object_get(j, "path")), path);
	assert_non_null(json_string_value(json_object_get(j, "error")));
	json_decref(j);
}

static void test_routes_and_errors(void **state)
{
	(void)state;
	CURL *c = curl_easy_init();
	struct resp r;
	request(c, "GET", "/hello", NULL, NULL, NULL, &r);
	assert_int_equal(r.status, 200);
	assert_string_equal(r.body.data, "{\"hello\":\"paper\"}");
	craft_buf_cleanup(&r.body);

	request(c, "GET", "/items/12", NULL, NULL, NULL, &r);
	assert_string_equal(r.body.data, "{\"id\":12}");
	craft_buf_cleanup(&r.body);

	const char *bad_ids[] = {"/items/0",  "/items/-3",   "/items/abc",
				 "/items/1x", "/items/1%00", "/items/99999999999"};
	for (size_t i = 0; i < CRAFT_ARRAY_LEN(bad_ids); i++) {
		request(c, "GET", bad_ids[i], NULL, NULL, NULL, &r);
		assert_error(&r, 400, bad_ids[i]);
		craft_buf_cleanup(&r.body);
	}

	request(c, "GET", "/missing", NULL, NULL, NULL, &r);
	assert_error(&r, 404, "/missing");
	craft_buf_cleanup(&r.body);

	request(c, "DELETE", "/hello", NULL, NULL, NULL, &r);
	assert_error(&r, 405, "/hello");
	assert_string_equal(r.allow, "GET, HEAD");
	craft_buf_cleanup(&r.body);

	request(c, "GET", "/noreply", NULL, NULL, NULL, &r);
	assert_error(&r, 500, "/noreply");
	craft_buf_cleanup(&r.body);
	curl_easy_cleanup(c);
}

static void test_json_bodies(void **state)
{
	(void)state;
	CURL *c = curl_easy_init();
	struct resp r;
	const char *json = "Content-Type: application/json";
	request(c, "POST", "/echo", "{\"a\":[1,2]}", json, NULL, &r);
	assert_int_equal(r.status, 201);
	assert_string_equal(r.body.data, "{\"a\":[1,2]}");
	craft_buf_cleanup(&r.body);

	request(c, "POST", "/echo", "{\"a\":1,\"a\":2}", json, NULL, &r);
	assert_error(&r, 400, "/echo");
	craft_buf_cleanup(&r.body);

	request(c, "POST", "/echo", "{\"a\":", json, NULL, &r);
	assert_error(&r, 400, "/echo");
	assert_non_null(strstr(r.body.data, "line 1"));
	craft_buf_cleanup(&r.body);

	request(c, "POST", "/echo", "[1]", json, NULL, &r);
	assert_error(&r, 400, "/echo");
	craft_buf_cleanup(&r.body);

	request(c, "POST", "/echo", "{}", "Content-Type: text/plain", NULL, &r);
	assert_error(&r, 415, "/echo");
	craft_buf_cleanup(&r.body);

	char big[2048];
	memset(big, ' ', sizeof(big) - 3);
	big[0] = '{';
	big[sizeof(big) - 3] = '}';
	big[sizeof(big) - 2] = '\0';
	request(c, "POST", "/echo", big, json, NULL, &r);
	assert_error(&r, 413, "/echo");
	craft_buf_cleanup(&r.body);
	curl_easy_cleanup(c);
}

static void test_keep_alive(void **state)
{
	(void)state;
	CURL *c = curl_easy_init();
	struct resp r;
	long connects = 0, n;
	for (int i = 0; i < 5; i++) {
		request(c, "GET", "/hello", NULL, NULL, NULL, &r);
		assert_int_equal(r.status, 200);
		craft_buf_cleanup(&r.body);
		curl_easy_getinfo(c, CURLINFO_NUM_CONNECTS, &n);
		connects += n;
	}
	assert_int_equal(connects, 1);
	curl_easy_cleanup(c);
}

static void test_suspend_resume(void **state)
{
	(void)state;
	CURL *c = curl_easy_init();
	struct resp r;
	for (int i = 0; i < 3; i++) {
		request(c, "GET", "/async", NULL, NULL, NULL, &r);
		assert_int_equal(r.status, 200);
		assert_string_equal(r.body.data, "resumed");
		craft_buf_cleanup(&r.body);
	}
	curl_easy_cleanup(c);
}

struct fetch {
	const char *path;
	long status;
	struct timespec done;
};

static void *fetch_main(void *arg)
{
	struct fetch *f = arg;
	CURL *c = curl_easy_init();
	struct resp r;
	request(c, "GET", f->path, NULL, NULL, NULL, &r);
	f->status = r.status;
	clock_gettime(CLOCK_MONOTONIC, &f->done);
	craft_buf_cleanup(&r.body);
	curl_easy_cleanup(c);
	return NULL;
}

static bool before(const struct timespec *a, const struct timespec *b)
{
	return a->tv_sec < b->tv_sec || (a->tv_sec == b->tv_sec && a->tv_nsec < b->tv_nsec);
}

static void test_offload(void **state)
{
	(void)state;
	/* Four blocking requests on a two-thread server: they run on the
	 * workers, so a quick request sent after them is answered first. */
	struct fetch slows[4], quick = {.path = "/hello"};
	pthread_t t[5];
	for (int i = 0; i < 4; i++) {
		slows[i] = (struct fetch){.path = "/slow"};
		pthread_create(&t[i], NULL, fetch_main, &slows[i]);
	}
	struct timespec ts = {.tv_sec = 0, .tv_nsec = 100 * 1000 * 1000};
	nanosleep(&ts, NULL);
	pthread_create(&t[4], NULL, fetch_main, &quick);
	for (int i = 0; i < 5; i++)
		pthread_join(t[i], NULL);
	assert_int_equal(quick.status, 200);
	for (int i = 0; i < 4; i++) {
		assert_int_equal(slows[i].status, 200);
		assert_true(before(&quick.done, &slows[i].done));
	}
	CURL *c = curl_easy_init();
	struct resp r;
	request(c, "GET", "/forgetful", NULL, NULL, NULL, &r);
	assert_error(&r, 500, "/forgetful");
	craft_buf_cleanup(&r.body);
	curl_easy_cleanup(c);
}

static void test_roles(void **state)
{
	(void)state;
	CURL *c = curl_easy_init();
	struct resp r;
	request(c, "GET", "/admin", NULL, NULL, NULL, &r);
	assert_error(&r, 401, "/admin");
	craft_buf_cleanup(&r.body);
	request(c, "GET", "/admin", NULL, NULL, "X-Role: user", &r);
	assert_error(&r, 403, "/admin");
	craft_buf_cleanup(&r.body);
	request(c, "GET", "/admin", NULL, NULL, "X-Role: admin", &r);
	assert_int_equal(r.status, 200);
	craft_buf_cleanup(&r.body);
	curl_easy_cleanup(c);
}

static void test_etag_lists(void **state)
{
	(void)state;
	const char *tag = "\"p42\"";
	assert_true(craft_etag_list_matches("\"p42\"", tag));
	assert_true(craft_etag_list_matches("W/\"p42\"", tag));
	assert_true(craft_etag_list_matches("\"p42\"", "W/\"p42\""));
	assert_true(craft_etag_list_matches(" \"a\" , W/\"b\",\"p42\" ", tag));
	assert_true(craft_etag_list_matches("*", tag));
	assert_true(craft_etag_list_matches(" * ", tag));
	assert_false(craft_etag_list_matches(NULL, tag));
	assert_false(craft_etag_list_matches("", tag));
	assert_false(craft_etag_list_matches("\"p4\"", tag));
	assert_false(craft_etag_list_matches("\"p421\"", tag));
	assert_false(craft_etag_list_matches("p42", tag));
	assert_false(craft_etag_list_matches("\"p42", tag));
	assert_false(craft_etag_list_matches("\"a\" \"p42\"", tag)); /* no comma */
	assert_false(craft_etag_list_matches("*, \"a\"", tag));
	assert_false(craft_etag_list_matches("\"p42\"", "p42")); /* ours malformed */
	assert_false(craft_etag_list_matches("\"p42\"", NULL));
}

static void test_not_modified(void **state)
{
	(void)state;
	CURL *c = curl_easy_init();
	struct resp r;
	request(c, "GET", "/tagged", NULL, NULL, NULL, &r);
	assert_int_equal(r.status, 200);
	assert_string_equal(r.body.data, "seven");
	craft_buf_cleanup(&r.body);
	request(c, "GET", "/tagged", NULL, NULL, "If-None-Match: \"v6\", \"v7\"", &r);
	assert_int_equal(r.status, 304);
	assert_null(r.body.data);
	/* the 200's length, never 0 (RFC 9110 section 8.6) */
	assert_string_equal(r.content_length, "5");
	craft_buf_cleanup(&r.body);
	request(c, "GET", "/tagged", NULL, NULL, "If-None-Match: \"v6\"", &r);
	assert_int_equal(r.status, 200);
	craft_buf_cleanup(&r.body);
	curl_easy_cleanup(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_etag_lists),        cmocka_unit_test(test_not_modified),
	    cmocka_unit_test(test_routes_and_errors), cmocka_unit_test(test_json_bodies),
	    cmocka_unit_test(test_keep_alive),        cmocka_unit_test(test_suspend_resume),
	    cmocka_unit_test(test_offload),           cmocka_unit_test(test_roles),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
