/* auth's limiter: the account names it counts under (pure), failing open
 * when Redis is away, and, against a real Redis on 127.0.0.1 when
 * CRAFT_TEST_REDIS_PORT is set, the login waits and the registration quota. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "support.h"

#include "craft/arena.h"
#include "craft/common.h"
#include "craft/redis.h"

#include "auth/limiter.h"

static void test_account_names(void **state)
{
	(void)state;
	craft_arena *a = craft_arena_new(0);
	assert_string_equal(auth_limiter_account(a, 42, "whatever"), "user:42");
	/* unknown names: ASCII case folded, hashed to a short fixed size */
	const char *ann = auth_limiter_account(a, 0, "ann");
	assert_string_equal(auth_limiter_account(a, 0, "ANN"), ann);
	assert_string_equal(auth_limiter_account(a, 0, "Ann"), ann);
	assert_string_not_equal(auth_limiter_account(a, 0, "anna"), ann);
	assert_int_equal(strlen(ann), strlen("name:") + 32);
	char *huge = craft_arena_alloc(a, 10001);
	memset(huge, 'x', 10000);
	huge[10000] = '\0';
	assert_int_equal(strlen(auth_limiter_account(a, 0, huge)), strlen(ann));
	/* only ASCII folds: the locale plays no part */
	assert_string_not_equal(auth_limiter_account(a, 0, "\xc3\x84"),
				auth_limiter_account(a, 0, "\xc3\xa4"));
	craft_arena_free(a);
}

static craft_redis_pool *pool_on(unsigned port)
{
	struct craft_redis_options o = {.host = "127.0.0.1",
					.port = port,
					.size = 2,
					.connect_timeout_ms = 500,
					.command_timeout_ms = 2000,
					.failure_threshold = 3};
	craft_redis_pool *pool = NULL;
	assert_int_equal(
	    craft_redis_pool_new(&o, auth_limiter_scripts, auth_limiter_nscripts, &pool), CRAFT_OK);
	return pool;
}

static struct auth_limiter limiter_on(craft_redis_pool *pool)
{
	return (struct auth_limiter){.redis = pool,
				     .max_pair = 2,
				     .max_account = 1000,
				     .max_client = 1000,
				     .window_s = 60,
				     .register_max = 2,
				     .register_window_s = 60};
}

static void test_fails_open_without_redis(void **state)
{
	(void)state;
	craft_redis_pool *pool = pool_on(support_closed_port());
	struct auth_limiter l = limiter_on(pool);
	craft_arena *a = craft_arena_new(0);
	long retry = -1;
	for (int i = 0; i < 5; i++)
		auth_limiter_failure(&l, a, NULL, "name:x", "192.0.2.1");
	assert_int_equal(auth_limiter_check(&l, a, NULL, "name:x", "192.0.2.1", &retry), CRAFT_OK);
	for (int i = 0; i < 5; i++)
		assert_int_equal(auth_limiter_register(&l, a, NULL, "192.0.2.1", &retry), CRAFT_OK);
	assert_int_equal(retry, -1);
	craft_arena_free(a);
	craft_redis_pool_free(pool);
}

/* ---- a real Redis ---- */

static void del(craft_redis_pool *pool, craft_arena *a, const char *key)
{
	const char *argv[] = {"DEL", key};
	craft_redis_command(pool, a, NULL, NULL, 2, argv, NULL);
}

/* The limiter over the stack's Redis, or a skip when there is none. */
static craft_redis_pool *live_pool(void)
{
	if (!support_redis_port())
		skip();
	return pool_on(support_redis_port());
}

static void test_login_waits(void **state)
{
	(void)state;
	craft_redis_pool *pool = live_pool();
	struct auth_limiter l = limiter_on(pool);
	craft_arena *a = craft_arena_new(0);
	const char *client = craft_arena_sprintf(a, "unit-%ld-a", (long)getpid());
	const char *other = craft_arena_sprintf(a, "unit-%ld-b", (long)getpid());
	const char *account = auth_limiter_account(a, 0, client);
	long retry = 0;
	assert_int_equal(auth_limiter_check(&l, a, NULL, account, client, &retry), CRAFT_OK);
	/* well past the pair's threshold: a wait of many seconds */
	for (int i = 0; i < 7; i++)
		auth_limiter_failure(&l, a, NULL, account, client);
	assert_int_equal(auth_limiter_check(&l, a, NULL, account, client, &retry), CRAFT_ETOOBIG);
	assert_true(retry >= 1 && retry <= l.window_s);
	/* the pair waits, not the account from elsewhere */
	assert_int_equal(auth_limiter_check(&l, a, NULL, account, other, &retry), CRAFT_OK);
	/* a right password from the pair clears it */
	auth_limiter_success(&l, a, NULL, account, client);
	assert_int_equal(auth_limiter_check(&l, a, NULL, account, client, &retry), CRAFT_OK);
	/* the client's own counter (no account) has its own threshold */
	l.max_client = 1;
	for (int i = 0; i < 6; i++)
		auth_limiter_failure(&l, a, NULL, NULL, other);
	assert_int_equal(auth_limiter_check(&l, a, NULL, NULL, other, &retry), CRAFT_ETOOBIG);
	del(pool, a, craft_arena_sprintf(a, "craftista:v1:auth:login:acct:%s", account));
	del(pool, a, craft_arena_sprintf(a, "craftista:v1:auth:login:ip:%s", client));
	del(pool, a, craft_arena_sprintf(a, "craftista:v1:auth:login:ip:%s", other));
	craft_arena_free(a);
	craft_redis_pool_free(pool);
}

static void test_registration_quota(void **state)
{
	(void)state;
	craft_redis_pool *pool = live_pool();
	struct auth_limiter l = limiter_on(pool);
	craft_arena *a = craft_arena_new(0);
	const char *client = craft_arena_sprintf(a, "unit-%ld-r", (long)getpid());
	long retry = 0;
	assert_int_equal(auth_limiter_register(&l, a, NULL, client, &retry), CRAFT_OK);
	assert_int_equal(auth_limiter_register(&l, a, NULL, client, &retry), CRAFT_OK);
	assert_int_equal(auth_limiter_register(&l, a, NULL, client, &retry), CRAFT_ETOOBIG);
	assert_true(retry >= 1 && retry <= l.register_window_s);
	/* another address has its own quota */
	const char *other = craft_arena_sprintf(a, "unit-%ld-s", (long)getpid());
	assert_int_equal(auth_limiter_register(&l, a, NULL, other, &retry), CRAFT_OK);
	del(pool, a, craft_arena_sprintf(a, "craftista:v1:auth:register:ip:%s", client));
	del(pool, a, craft_arena_sprintf(a, "craftista:v1:auth:register:ip:%s", other));
	craft_arena_free(a);
	craft_redis_pool_free(pool);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_account_names),
	    cmocka_unit_test(test_fails_open_without_redis),
	    cmocka_unit_test(test_login_waits),
	    cmocka_unit_test(test_registration_quota),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
