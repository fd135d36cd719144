/* product's role rule: ranked roles, failing closed on anything unknown. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "product/access.h"

static void test_known_roles(void **state)
{
	(void)state;
	assert_true(product_role_allows("user", "user"));
	assert_true(product_role_allows("user", "admin"));
	assert_true(product_role_allows("admin", "admin"));
	assert_false(product_role_allows("admin", "user"));
}

static void test_unknown_held_role_grants_nothing(void **state)
{
	(void)state;
	static const char *const odd[] = {"superuser", "root",   "",      "Admin",
					  "USER",      "admin ", "user\n"};
	for (size_t i = 0; i < sizeof(odd) / sizeof(odd[0]); i++) {
		assert_false(product_role_allows("user", odd[i]));
		assert_false(product_role_allows("admin", odd[i]));
	}
	assert_false(product_role_allows("user", NULL));
	assert_false(product_role_allows("admin", NULL));
}

static void test_unknown_required_role_grants_nothing(void **state)
{
	(void)state;
	/* a route naming a role this rule does not know is closed to everyone */
	assert_false(product_role_allows("administrator", "admin"));
	assert_false(product_role_allows("superuser", "superuser"));
	assert_false(product_role_allows("", ""));
	assert_false(product_role_allows(NULL, "admin"));
	assert_false(product_role_allows(NULL, NULL));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_known_roles),
	    cmocka_unit_test(test_unknown_held_role_grants_nothing),
	    cmocka_unit_test(test_unknown_required_role_grants_nothing),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
