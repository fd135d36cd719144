#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "craft/common.h"
#include "craft/router.h"

static void h_list(craft_req *req)
{
	(void)req;
}
static void h_one(craft_req *req)
{
	(void)req;
}
static void h_vote(craft_req *req)
{
	(void)req;
}
static void h_unvote(craft_req *req)
{
	(void)req;
}
static void h_create(craft_req *req)
{
	(void)req;
}
static void h_root(craft_req *req)
{
	(void)req;
}

static const struct craft_route routes[] = {
    {.method = "GET", .pattern = "/", .handler = h_root},
    {.method = "GET", .pattern = "/api/products", .handler = h_list},
    {.method = "POST", .pattern = "/api/products", .handler = h_create, .role = "admin"},
    {.method = "GET", .pattern = "/api/products/{id}", .handler = h_one},
    {.method = "POST", .pattern = "/api/origamis/{id}/vote", .handler = h_vote},
    {.method = "DELETE", .pattern = "/api/origamis/{id}/vote", .handler = h_unvote},
    {.method = "GET", .pattern = "/a/{x}/b/{y}", .handler = h_one},
};

static int match(const char *method, const char *path, struct craft_route_match *m, char *allow)
{
	return craft_router_match(routes, CRAFT_ARRAY_LEN(routes), method, path, m, allow, 64);
}

static void test_literal(void **state)
{
	(void)state;
	struct craft_route_match m;
	char allow[64];
	assert_int_equal(match("GET", "/api/products", &m, allow), CRAFT_OK);
	assert_ptr_equal(m.route->handler, h_list);
	assert_int_equal(m.nparams, 0);
	assert_int_equal(match("POST", "/api/products", &m, allow), CRAFT_OK);
	assert_ptr_equal(m.route->handler, h_create);
	assert_string_equal(m.route->role, "admin");
	assert_int_equal(match("GET", "/", &m, allow), CRAFT_OK);
	assert_ptr_equal(m.route->handler, h_root);
}

static void test_params(void **state)
{
	(void)state;
	struct craft_route_match m;
	char allow[64];
	assert_int_equal(match("GET", "/api/products/42", &m, allow), CRAFT_OK);
	assert_ptr_equal(m.route->handler, h_one);
	assert_int_equal(m.nparams, 1);
	assert_int_equal(m.params[0].name_len, 2);
	assert_memory_equal(m.params[0].name, "id", 2);
	assert_int_equal(m.params[0].value_len, 2);
	assert_memory_equal(m.params[0].value, "42", 2);

	assert_int_equal(match("GET", "/a/one/b/two", &m, allow), CRAFT_OK);
	assert_int_equal(m.nparams, 2);
	assert_memory_equal(m.params[0].value, "one", 3);
	assert_memory_equal(m.params[1].value, "two", 3);
	assert_memory_equal(m.params[1].name, "y", 1);

	assert_int_equal(match("DELETE", "/api/origamis/7/vote", &m, allow), CRAFT_OK);
	assert_ptr_equal(m.route->handler, h_unvote);
}

static void test_not_found(void **state)
{
	(void)state;
	struct craft_route_match m;
	char allow[64];
	const char *paths[] = {"/api/product",
			       "/api/products/1/extra",
			       "/api/products//",
			       "/api/products/",
			       "/api/origamis//vote",
			       "/nope",
			       "",
			       "api/products",
			       "/api/productsX",
			       "/a/one/b",
			       "/a//b/two"};
	for (size_t i = 0; i < CRAFT_ARRAY_LEN(paths); i++) {
		int rc = match("GET", paths[i], &m, allow);
		/* "/api/products/" is "/api/products" with a trailing slash: allowed */
		if (strcmp(paths[i], "/api/products/") == 0)
			assert_int_equal(rc, CRAFT_OK);
		else if (rc != CRAFT_ENOTFOUND)
			fail_msg("path %s: expected not found, got %d", paths[i], rc);
	}
}

static void test_method_not_allowed(void **state)
{
	(void)state;
	struct craft_route_match m;
	char allow[64];
	assert_int_equal(match("PUT", "/api/products", &m, allow), CRAFT_EINVAL);
	assert_string_equal(allow, "GET, HEAD, POST");
	assert_int_equal(match("GET", "/api/origamis/3/vote", &m, allow), CRAFT_EINVAL);
	assert_string_equal(allow, "POST, DELETE");
}

static void test_head_serves_get(void **state)
{
	(void)state;
	struct craft_route_match m;
	char allow[64];
	assert_int_equal(match("HEAD", "/api/products/9", &m, allow), CRAFT_OK);
	assert_ptr_equal(m.route->handler, h_one);
	assert_int_equal(match("HEAD", "/api/origamis/3/vote", &m, allow), CRAFT_EINVAL);
}

static void test_long_path(void **state)
{
	(void)state;
	static char path[CRAFT_ROUTE_MAX_PATH + 10];
	memset(path, 'a', sizeof(path) - 1);
	path[0] = '/';
	path[sizeof(path) - 1] = '\0';
	struct craft_route_match m;
	char allow[64];
	assert_int_equal(match("GET", path, &m, allow), CRAFT_ENOTFOUND);
}

static void test_small_allow_buffer(void **state)
{
	(void)state;
	struct craft_route_match m;
	char allow[6];
	int rc = craft_router_match(routes, CRAFT_ARRAY_LEN(routes), "PUT", "/api/products", &m,
				    allow, sizeof(allow));
	assert_int_equal(rc, CRAFT_EINVAL);
	assert_true(strlen(allow) < sizeof(allow));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_literal),
	    cmocka_unit_test(test_params),
	    cmocka_unit_test(test_not_found),
	    cmocka_unit_test(test_method_not_allowed),
	    cmocka_unit_test(test_head_serves_get),
	    cmocka_unit_test(test_long_path),
	    cmocka_unit_test(test_small_allow_buffer),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
