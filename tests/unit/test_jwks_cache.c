/* test_jwks_cache.c - verifying tokens against a JWK set served over HTTP by a
 * libmicrohttpd server in this process: tokens already verified are accepted
 * again without the RSA work, but never past their expiry, never after a
 * tampered byte, and never once the key set that verified them is replaced. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "craft/common.h"
#include "craft/httpc.h"
#include "craft/jwks_cache.h"
#include "craft/jwt.h"
#include "craft/log.h"

struct fx {
	struct MHD_Daemon *daemon;
	unsigned port;
	pthread_mutex_t mu;
	char *document; /* the JWK set being served */
	craft_jwt_key *a, *b;
	craft_httpc *http;
	craft_jwks_cache *cache;
};

static enum MHD_Result serve(void *cls, struct MHD_Connection *c, const char *url,
			     const char *method, const char *version, const char *upload,
			     size_t *upload_size, void **con_cls)
{
	(void)url, (void)method, (void)version, (void)upload, (void)upload_size;
	struct fx *fx = cls;
	if (!*con_cls) {
		*con_cls = fx;
		return MHD_YES;
	}
	pthread_mutex_lock(&fx->mu);
	char *copy = craft_xstrdup(fx->document);
	pthread_mutex_unlock(&fx->mu);
	struct MHD_Response *r =
	    MHD_create_response_from_buffer(strlen(copy), copy, MHD_RESPMEM_MUST_FREE);
	MHD_add_response_header(r, "Content-Type", "application/json");
	enum MHD_Result ret = MHD_queue_response(c, 200, r);
	MHD_destroy_response(r);
	return ret;
}

/* Serve a set made of `key`'s public part. */
static void serve_key(struct fx *fx, const craft_jwt_key *key)
{
	craft_jwt_key *pub = NULL;
	assert_int_equal(craft_jwt_key_dup_public(key, &pub), 0);
	craft_jwks *set = craft_jwks_new();
	assert_int_equal(craft_jwks_add(set, pub), 0);
	json_t *doc = craft_jwks_to_json(set);
	char *text = json_dumps(doc, JSON_COMPACT);
	json_decref(doc);
	craft_jwks_free(set);
	pthread_mutex_lock(&fx->mu);
	free(fx->document);
	fx->document = text;
	pthread_mutex_unlock(&fx->mu);
}

static char *token(const craft_jwt_key *key, const char *sub, long long exp)
{
	json_t *claims = json_pack("{s:s, s:s, s:I, s:I}", "sub", sub, "role", "user", "iat",
				   (json_int_t)time(NULL), "exp", (json_int_t)exp);
	char *out = NULL;
	assert_int_equal(craft_jwt_sign(key, claims, &out), 0);
	json_decref(claims);
	return out;
}

static int verify(struct fx *fx, const char *t)
{
	struct craft_jwt_claims claims;
	const char *reason = NULL;
	int rc = craft_jwks_cache_verify(fx->cache, NULL, t, strlen(t), &claims, &reason);
	assert_non_null(reason);
	if (rc == CRAFT_OK) {
		assert_string_equal(claims.sub, "paper");
		assert_string_equal(claims.role, "user");
	}
	craft_jwt_claims_cleanup(&claims);
	return rc;
}

static unsigned long hits(struct fx *fx)
{
	struct craft_jwks_cache_stats st;
	craft_jwks_cache_stats(fx->cache, &st);
	return st.verified_hits;
}

static int setup(void **state)
{
	craft_log_init("test", CRAFT_LOG_ERROR, fopen("/dev/null", "w"));
	struct fx *fx = calloc(1, sizeof(*fx));
	pthread_mutex_init(&fx->mu, NULL);
	assert_int_equal(craft_jwt_key_generate(2048, "key-a", &fx->a), 0);
	assert_int_equal(craft_jwt_key_generate(2048, "key-b", &fx->b), 0);
	serve_key(fx, fx->a);
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = 0};
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fx->daemon = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD, 0, NULL, NULL, serve, fx,
				      MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa, MHD_OPTION_END);
	assert_non_null(fx->daemon);
	fx->port = MHD_get_daemon_info(fx->daemon, MHD_DAEMON_INFO_BIND_PORT)->port;
	assert_int_equal(craft_httpc_new(NULL, &fx->http), 0);
	char url[128];
	snprintf(url, sizeof(url), "http://127.0.0.1:%u/.well-known/jwks.json", fx->port);
	struct craft_jwks_cache_options o = {
	    .url = url, .http = fx->http, .min_refetch_ms = 100, .verify = {.leeway_s = 0}};
	assert_int_equal(craft_jwks_cache_new(&o, &fx->cache), 0);
	for (int i = 0; i < 500 && !craft_jwks_cache_ready(fx->cache); i++) {
		struct timespec ts = {.tv_nsec = 10 * 1000 * 1000};
		nanosleep(&ts, NULL);
	}
	assert_true(craft_jwks_cache_ready(fx->cache));
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fx *fx = *state;
	craft_jwks_cache_free(fx->cache);
	craft_httpc_free(fx->http);
	MHD_stop_daemon(fx->daemon);
	craft_jwt_key_free(fx->a);
	craft_jwt_key_free(fx->b);
	free(fx->document);
	pthread_mutex_destroy(&fx->mu);
	free(fx);
	return 0;
}

static void test_remembered_only_while_valid(void **state)
{
	struct fx *fx = *state;
	char *good = token(fx->a, "paper", (long long)time(NULL) + 600);
	assert_int_equal(verify(fx, good), 0);
	unsigned long h0 = hits(fx);
	assert_int_equal(verify(fx, good), 0);
	assert_int_equal(verify(fx, good), 0);
	assert_int_equal(hits(fx), h0 + 2);

	/* one byte changed in the signature: never the remembered token */
	char *bad = craft_xstrdup(good);
	size_t n = strlen(bad);
	bad[n - 2] = bad[n - 2] == 'A' ? 'B' : 'A';
	assert_int_not_equal(verify(fx, bad), 0);
	/* a prefix of it neither */
	bad[n - 1] = '\0';
	assert_int_not_equal(verify(fx, bad), 0);
	assert_int_equal(hits(fx), h0 + 2);

	/* accepted until it expires, then refused (no leeway here) */
	char *brief = token(fx->a, "paper", (long long)time(NULL) + 2);
	assert_int_equal(verify(fx, brief), 0);
	assert_int_equal(verify(fx, brief), 0);
	unsigned long h1 = hits(fx);
	struct timespec ts = {.tv_sec = 3};
	nanosleep(&ts, NULL);
	assert_int_not_equal(verify(fx, brief), 0);
	assert_int_equal(hits(fx), h1);
	free(brief);
	free(bad);
	free(good);
}

static void test_forgotten_when_the_key_set_changes(void **state)
{
	struct fx *fx = *state;
	char *old = token(fx->a, "paper", (long long)time(NULL) + 600);
	assert_int_equal(verify(fx, old), 0);
	assert_int_equal(verify(fx, old), 0); /* remembered */
	/* key a is retired: the next set holds only key b */
	serve_key(fx, fx->b);
	struct timespec ts = {.tv_nsec = 200 * 1000 * 1000};
	nanosleep(&ts, NULL);
	char *fresh = token(fx->b, "paper", (long long)time(NULL) + 600);
	assert_int_equal(verify(fx, fresh), 0); /* unknown kid: the set is fetched again */
	unsigned long h = hits(fx);
	assert_int_not_equal(verify(fx, old), 0);
	assert_int_equal(hits(fx), h);
	free(fresh);
	free(old);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_remembered_only_while_valid, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_forgotten_when_the_key_set_changes, setup,
					    teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
