/* test_frontend_session.c - the frontend's session cookies through a real
 * server in this process: the signed one-shot flash (round trip, tampering,
 * another key), the session cookies' attributes, and the cross-site check. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "craft/common.h"
#include "craft/http.h"
#include "craft/log.h"

#include "frontend/session.h"

/* ---- the server: each route calls one session function ---- */

static struct session_options plain = {.secure = false, .public_origin = ""};
static struct session_options secure = {.secure = true, .public_origin = ""};
static struct session_options public = {.secure = false, .public_origin = "https://shop.example"};
static struct session_options other_key = {.secure = false, .public_origin = ""};

/* ?o=secure|public|other picks the options; default plain. */
static const struct session_options *options(craft_req *req)
{
	const char *o = craft_req_query(req, "o");
	if (!o)
		return &plain;
	if (strcmp(o, "secure") == 0)
		return &secure;
	if (strcmp(o, "public") == 0)
		return &public;
	return &other_key;
}

static void reply_bool(craft_req *req, bool b)
{
	craft_reply(req, 200, "text/plain", b ? "yes" : "no", b ? 3 : 2);
}

static void flash(craft_req *req)
{
	json_t *extra = json_pack("{s:s}", "field", "username");
	session_flash(req, options(req), "error", "Wrong password", extra);
	json_decref(extra);
	reply_bool(req, true);
}

static void take(craft_req *req)
{
	json_t *f = session_take_flash(req, options(req));
	craft_reply_json(req, 200, f ? f : json_null());
}

static void set(craft_req *req)
{
	session_set(req, options(req), "a.b.c", "ann", 120);
	reply_bool(req, true);
}

static void clear(craft_req *req)
{
	session_clear(req, options(req));
	reply_bool(req, true);
}

static void same_origin(craft_req *req)
{
	reply_bool(req, session_same_origin(req, options(req)));
}

static void user(craft_req *req)
{
	struct session_user u = {.unverifiable = true};
	bool in = session_user(req, NULL, options(req), &u); /* no cookie: no key needed */
	reply_bool(req, in || u.unverifiable);
}

static const struct craft_route routes[] = {
    {.method = "GET", .pattern = "/flash", .handler = flash},
    {.method = "GET", .pattern = "/take", .handler = take},
    {.method = "GET", .pattern = "/set", .handler = set},
    {.method = "GET", .pattern = "/clear", .handler = clear},
    {.method = "GET", .pattern = "/same-origin", .handler = same_origin},
    {.method = "GET", .pattern = "/user", .handler = user},
};

static craft_server *server;
static char base[64];

static int setup(void **state)
{
	(void)state;
	craft_log_init("test", CRAFT_LOG_ERROR, fopen("/dev/null", "w"));
	craft_server_block_signals();
	memset(plain.flash_key, 1, sizeof(plain.flash_key));
	memset(secure.flash_key, 1, sizeof(secure.flash_key));
	memset(public.flash_key, 1, sizeof(public.flash_key));
	memset(other_key.flash_key, 2, sizeof(other_key.flash_key));
	static struct craft_server_options opts = {.service = "test",
						   .host = "127.0.0.1",
						   .threads = 2,
						   .routes = routes,
						   .nroutes = CRAFT_ARRAY_LEN(routes)};
	char err[256];
	if (craft_server_start(&opts, &server, err, sizeof(err)) != CRAFT_OK)
		fail_msg("server: %s", err);
	snprintf(base, sizeof(base), "127.0.0.1:%u", craft_server_port(server));
	curl_global_init(CURL_GLOBAL_DEFAULT);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	craft_server_stop(server);
	curl_global_cleanup();
	return 0;
}

/* ---- the client ---- */

struct resp {
	char body[4096];
	size_t len;
	char cookies[4][1024]; /* Set-Cookie values, in order */
	size_t ncookies;
};

static size_t on_body(char *data, size_t size, size_t n, void *ctx)
{
	struct resp *r = ctx;
	size_t len = size * n;
	if (r->len + len >= sizeof(r->body))
		return 0;
	memcpy(r->body + r->len, data, len);
	r->len += len;
	r->body[r->len] = '\0';
	return len;
}

static size_t on_header(char *data, size_t size, size_t n, void *ctx)
{
	struct resp *r = ctx;
	size_t len = size * n;
	static const char name[] = "Set-Cookie: ";
	if (len > sizeof(name) - 1 && strncasecmp(data, name, sizeof(name) - 1) == 0 &&
	    r->ncookies < 4) {
		size_t v = len - (sizeof(name) - 1);
		while (v > 0 && (data[sizeof(name) - 1 + v - 1] == '\r' ||
				 data[sizeof(name) - 1 + v - 1] == '\n'))
			v--;
		snprintf(r->cookies[r->ncookies++], 1024, "%.*s", (int)v, data + sizeof(name) - 1);
	}
	return len;
}

/* GET base+path with up to two extra header lines (NULL: none). */
static void get(const char *path, const char *h1, const char *h2, struct resp *r)
{
	memset(r, 0, sizeof(*r));
	char url[512];
	snprintf(url, sizeof(url), "http://%s%s", base, path);
	CURL *c = curl_easy_init();
	struct curl_slist *h = NULL;
	if (h1)
		h = curl_slist_append(h, h1);
	if (h2)
		h = curl_slist_append(h, h2);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, r);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 5000L);
	CURLcode cc = curl_easy_perform(c);
	if (cc != CURLE_OK)
		fail_msg("curl %s: %s", url, curl_easy_strerror(cc));
	curl_slist_free_all(h);
	curl_easy_cleanup(c);
}

/* The cookie's "name=value" part of a Set-Cookie line. */
static void pair_of(const char *set_cookie, char *out, size_t len)
{
	snprintf(out, len, "%.*s", (int)strcspn(set_cookie, ";"), set_cookie);
}

/* GET `route` with options `o` (NULL: plain) and up to two headers; the body. */
static const char *ask(const char *route, const char *o, const char *h1, const char *h2,
		       struct resp *r)
{
	char path[64];
	snprintf(path, sizeof(path), "%s%s%s", route, o ? "?o=" : "", o ? o : "");
	get(path, h1, h2, r);
	return r->body;
}

/* Take the flash `cookie` ("flash=...") with options `o`; the body. */
static const char *take_with(const char *cookie, const char *o, struct resp *r)
{
	char header[1200];
	snprintf(header, sizeof(header), "Cookie: %s", cookie);
	return ask("/take", o, header, NULL, r);
}

static void test_flash_round_trip(void **state)
{
	(void)state;
	struct resp r;
	get("/flash", NULL, NULL, &r);
	assert_int_equal(r.ncookies, 1);
	assert_non_null(strstr(r.cookies[0], "; Max-Age=60; HttpOnly; SameSite=Strict"));
	assert_null(strstr(r.cookies[0], "Secure"));
	char cookie[1024];
	pair_of(r.cookies[0], cookie, sizeof(cookie));
	json_t *got = json_loads(take_with(cookie, NULL, &r), 0, NULL);
	json_t *want = json_pack("{s:s, s:s, s:s}", "kind", "error", "message", "Wrong password",
				 "field", "username");
	assert_true(json_equal(got, want));
	json_decref(got);
	json_decref(want);
	/* one-shot: taking it clears it */
	assert_int_equal(r.ncookies, 1);
	assert_non_null(strstr(r.cookies[0], "flash=; Path=/; Max-Age=0"));
	/* no cookie: nothing to take, nothing cleared */
	get("/take", NULL, NULL, &r);
	assert_string_equal(r.body, "null");
	assert_int_equal(r.ncookies, 0);
}

static void test_flash_refused_when_forged(void **state)
{
	(void)state;
	struct resp r;
	get("/flash", NULL, NULL, &r);
	char cookie[1024];
	pair_of(r.cookies[0], cookie, sizeof(cookie));
	/* another key's MAC */
	assert_string_equal(take_with(cookie, "other", &r), "null");
	/* one payload character changed */
	char forged[1024];
	snprintf(forged, sizeof(forged), "%s", cookie);
	char *p = forged + strlen("flash=") + 2;
	*p = *p == 'A' ? 'B' : 'A';
	assert_string_equal(take_with(forged, NULL, &r), "null");
	/* no MAC, a short MAC */
	*strrchr(forged, '.') = '\0';
	assert_string_equal(take_with(forged, NULL, &r), "null");
	assert_string_equal(take_with("flash=e30.abc", NULL, &r), "null");
	/* the genuine one still reads */
	assert_string_not_equal(take_with(cookie, NULL, &r), "null");
}

static void test_session_cookies(void **state)
{
	(void)state;
	struct resp r;
	get("/set", NULL, NULL, &r);
	assert_int_equal(r.ncookies, 2);
	assert_string_equal(r.cookies[0],
			    "jwt_token=a.b.c; Path=/; Max-Age=120; HttpOnly; SameSite=Strict");
	assert_string_equal(r.cookies[1], "username=ann; Path=/; Max-Age=120; SameSite=Strict");
	get("/set?o=secure", NULL, NULL, &r);
	assert_int_equal(r.ncookies, 2);
	for (size_t i = 0; i < 2; i++)
		assert_non_null(strstr(r.cookies[i], "SameSite=Strict; Secure"));
	get("/clear?o=secure", NULL, NULL, &r);
	assert_int_equal(r.ncookies, 2);
	assert_non_null(strstr(r.cookies[0], "jwt_token=; Path=/; Max-Age=0;"));
	assert_non_null(strstr(r.cookies[0], "HttpOnly"));
	assert_non_null(strstr(r.cookies[1], "username=; Path=/; Max-Age=0;"));
	assert_null(strstr(r.cookies[1], "HttpOnly"));
	assert_non_null(strstr(r.cookies[1], "; Secure"));
	/* no session cookie: logged out, and not "unverifiable" */
	get("/user", NULL, NULL, &r);
	assert_string_equal(r.body, "no");
}

static const char *origin(const char *o, const char *h1, const char *h2, struct resp *r)
{
	return ask("/same-origin", o, h1, h2, r);
}

static void test_same_origin(void **state)
{
	(void)state;
	struct resp r;
	char ours[128], ours_ref[160];
	snprintf(ours, sizeof(ours), "Origin: http://%s", base);
	snprintf(ours_ref, sizeof(ours_ref), "Referer: https://%s/login", base);
	assert_string_equal(origin(NULL, NULL, NULL, &r), "yes"); /* a non-browser client */
	assert_string_equal(origin(NULL, ours, NULL, &r), "yes");
	assert_string_equal(origin(NULL, ours_ref, NULL, &r), "yes");
	assert_string_equal(origin(NULL, ours, "Sec-Fetch-Site: cross-site", &r), "no");
	assert_string_equal(origin(NULL, "Origin: null", NULL, &r), "no");
	assert_string_equal(origin(NULL, "Origin: http://evil.example", NULL, &r), "no");
	assert_string_equal(origin(NULL, "Referer: http://evil.example/x", NULL, &r), "no");
	/* the host must end where ours does */
	char longer[160];
	snprintf(longer, sizeof(longer), "Origin: http://%s.evil.example", base);
	assert_string_equal(origin(NULL, longer, NULL, &r), "no");
	/* with PUBLIC_ORIGIN, that and only that */
	assert_string_equal(origin("public", "Origin: https://shop.example", NULL, &r), "yes");
	assert_string_equal(origin("public", ours, NULL, &r), "no");
	assert_string_equal(origin("public", "Referer: https://shop.example.evil/", NULL, &r),
			    "no");
	assert_string_equal(origin("public", "Referer: https://shop.example/cart", NULL, &r),
			    "yes");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_flash_round_trip),
	    cmocka_unit_test(test_flash_refused_when_forged),
	    cmocka_unit_test(test_session_cookies),
	    cmocka_unit_test(test_same_origin),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
