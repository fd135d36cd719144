/* product's cache against the test stack's Redis and PostgreSQL
 * (CRAFT_TEST_REDIS_PORT and CRAFT_TEST_DATABASE_URL; skipped without them):
 * trust after the first repair pass, writes that never go back to an older
 * version, reads that fill from PostgreSQL then hit, and the list with its
 * ETag. Only a product id that PostgreSQL does not hold is written by hand,
 * and its entry is removed afterwards. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "craft/arena.h"
#include "craft/common.h"
#include "craft/pg.h"
#include "craft/redis.h"

#include "product/cache.h"
#include "product/repr.h"
#include "product/store.h"

#include "support.h"

struct fixture {
	craft_pg_pool *pg;
	craft_redis_pool *redis;
	struct product_cache cache;
	craft_arena *arena;
};

static int setup(void **state)
{
	if (!support_redis_port() || !support_database_url()) {
		*state = NULL;
		return 0;
	}
	struct fixture *fx = calloc(1, sizeof(*fx));
	struct craft_pg_options po = {
	    .conninfo = support_database_url(), .size = 2, .connect_timeout_s = 2};
	assert_int_equal(craft_pg_pool_new(&po, product_store_stmts, product_store_nstmts, &fx->pg),
			 CRAFT_OK);
	struct craft_redis_options ro = {.host = "127.0.0.1",
					 .port = support_redis_port(),
					 .size = 2,
					 .connect_timeout_ms = 500,
					 .command_timeout_ms = 2000,
					 .watch_restarts = true};
	assert_int_equal(
	    craft_redis_pool_new(&ro, product_cache_scripts, product_cache_nscripts, &fx->redis),
	    CRAFT_OK);
	assert_int_equal(product_cache_start(&fx->cache, fx->redis, fx->pg, 60, 100), CRAFT_OK);
	fx->arena = craft_arena_new(0);
	/* trusted once a repair pass has completed */
	for (int i = 0; i < 1000 && !atomic_load(&fx->cache.trusted); i++) {
		struct timespec ts = {.tv_nsec = 10 * 1000 * 1000};
		nanosleep(&ts, NULL);
	}
	assert_true(atomic_load(&fx->cache.trusted));
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;
	if (!fx)
		return 0;
	product_cache_stop(&fx->cache);
	craft_arena_free(fx->arena);
	craft_redis_pool_free(fx->redis);
	craft_pg_pool_free(fx->pg);
	free(fx);
	return 0;
}

static void expect_view(struct fixture *fx, const struct product *p)
{
	struct product_view v;
	assert_int_equal(product_cache_peek(&fx->cache, fx->arena, NULL, p->id, &v), CRAFT_OK);
	assert_int_equal(v.version, p->version);
	size_t len = 0;
	const char *want = product_repr_render(fx->arena, p, &len);
	assert_int_equal(v.len, len);
	assert_memory_equal(v.json, want, len);
}

static void test_writes_never_go_back(void **state)
{
	struct fixture *fx = *state;
	if (!fx)
		skip();
	long id = 1500000000L + (long)(getpid() % 100000);
	struct product newer = {.id = id,
				.name = "Unit Crane",
				.description = "folded by a test",
				.image_url = "/static/images/origami/crane.svg",
				.votes = 3,
				.version = 1000};
	product_cache_put(&fx->cache, fx->arena, NULL, &newer);
	expect_view(fx, &newer);
	/* a slower writer with an older row loses */
	struct product older = newer;
	older.votes = 1;
	older.version = 999;
	product_cache_put(&fx->cache, fx->arena, NULL, &older);
	expect_view(fx, &newer);
	/* a deletion is a version too, and nothing older brings the product back */
	product_cache_deleted(&fx->cache, fx->arena, NULL, id, 1001);
	struct product_view v;
	assert_int_equal(product_cache_peek(&fx->cache, fx->arena, NULL, id, &v), CRAFT_ENOTFOUND);
	product_cache_put(&fx->cache, fx->arena, NULL, &newer);
	assert_int_equal(product_cache_peek(&fx->cache, fx->arena, NULL, id, &v), CRAFT_ENOTFOUND);
	assert_int_equal(atomic_load(&fx->cache.write_failures), 0);
	const char *argv[] = {"DEL",
			      craft_arena_sprintf(fx->arena, "craftista:v1:product:%ld", id)};
	assert_int_equal(craft_redis_command(fx->redis, fx->arena, NULL, NULL, 2, argv, NULL),
			 CRAFT_OK);
}

static void test_read_fills_then_hits(void **state)
{
	struct fixture *fx = *state;
	if (!fx)
		skip();
	struct product row;
	assert_int_equal(store_get(fx->pg, fx->arena, NULL, 1, &row), CRAFT_OK);
	struct product_view v;
	assert_int_equal(product_cache_get(&fx->cache, fx->arena, NULL, 1, &v), CRAFT_OK);
	assert_true(v.version >= row.version);
	unsigned long hits = atomic_load(&fx->cache.hits);
	assert_int_equal(product_cache_get(&fx->cache, fx->arena, NULL, 1, &v), CRAFT_OK);
	assert_int_equal(atomic_load(&fx->cache.hits), hits + 1);
	struct product back;
	assert_int_equal(product_view_decode(fx->arena, &v, &back), CRAFT_OK);
	assert_int_equal(back.id, 1);
	assert_int_equal(back.version, v.version);
	assert_non_null(back.name);
	/* an id PostgreSQL does not hold */
	assert_int_equal(product_cache_get(&fx->cache, fx->arena, NULL, 2000000000L, &v),
			 CRAFT_ENOTFOUND);
}

static void test_list_and_its_etag(void **state)
{
	struct fixture *fx = *state;
	if (!fx)
		skip();
	struct product *items = NULL;
	size_t n = 0;
	assert_int_equal(store_list(fx->pg, fx->arena, NULL, &items, &n), CRAFT_OK);
	char etag[PRODUCT_ETAG_MAX];
	product_etag_list(etag, items, n);
	size_t len = 0;
	const char *json = product_repr_render_list(fx->arena, items, n, &len);
	struct product_list_view a, b;
	assert_int_equal(
	    product_cache_list(&fx->cache, fx->arena, NULL, product_cache_now_ns(), &a), CRAFT_OK);
	assert_string_equal(a.etag, etag);
	assert_int_equal(a.len, len);
	assert_memory_equal(a.json, json, len);
	/* the second read is served from Redis, the same bytes */
	unsigned long hits = atomic_load(&fx->cache.list_hits);
	assert_int_equal(product_cache_list_peek(&fx->cache, fx->arena, NULL, &b), CRAFT_OK);
	assert_int_equal(atomic_load(&fx->cache.list_hits), hits + 1);
	assert_string_equal(b.etag, etag);
	assert_int_equal(b.len, len);
	assert_memory_equal(b.json, json, len);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_writes_never_go_back, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_read_fills_then_hits, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_list_and_its_etag, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
