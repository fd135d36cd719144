/* auth's stand-in hash for unknown users: well formed, never matching, and
 * checked by the same bcrypt run as a real hash. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <crypt.h>

#include "auth/password.h"
#include "craft/common.h"

static void test_dummy_is_a_bcrypt_hash_at_the_cost(void **state)
{
	(void)state;
	char dummy[AUTH_HASH_MAX], other[AUTH_HASH_MAX], real[AUTH_HASH_MAX];
	assert_int_equal(auth_password_dummy(4, dummy), CRAFT_OK);
	assert_int_equal(strlen(dummy), 60);
	assert_memory_equal(dummy, "$2b$04$", 7);
	assert_int_equal(auth_password_hash("paper-crane-1", 4, real), CRAFT_OK);
	assert_int_equal(strlen(real), strlen(dummy));
	assert_int_equal(auth_password_dummy(12, other), CRAFT_OK);
	assert_memory_equal(other, "$2b$12$", 7);
	/* a fresh salt each time */
	assert_int_equal(auth_password_dummy(4, other), CRAFT_OK);
	assert_memory_not_equal(dummy, other, 29);
}

static void test_dummy_runs_bcrypt_and_never_matches(void **state)
{
	(void)state;
	char dummy[AUTH_HASH_MAX];
	assert_int_equal(auth_password_dummy(4, dummy), CRAFT_OK);
	const char *tries[] = {"", "x", "paper-crane-1", "craftista-timing-equaliser",
			       "................................"};
	for (size_t i = 0; i < sizeof(tries) / sizeof(tries[0]); i++)
		assert_false(auth_password_check(tries[i], dummy));
	/* libxcrypt takes it as a setting: the check hashes with its salt and
	 * cost, as it does for a real hash (no early refusal) */
	struct crypt_data data;
	memset(&data, 0, sizeof(data));
	const char *h = crypt_rn("paper-crane-1", dummy, &data, sizeof(data));
	assert_non_null(h);
	assert_int_not_equal(h[0], '*');
	assert_int_equal(strlen(h), 60);
	assert_memory_equal(h, dummy, 29);
	assert_memory_not_equal(h, dummy, 60);
}

static void test_dummy_refuses_bad_costs(void **state)
{
	(void)state;
	char dummy[AUTH_HASH_MAX];
	assert_int_equal(auth_password_dummy(AUTH_BCRYPT_COST_MIN - 1, dummy), CRAFT_EINVAL);
	assert_int_equal(auth_password_dummy(AUTH_BCRYPT_COST_MAX + 1, dummy), CRAFT_EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_dummy_is_a_bcrypt_hash_at_the_cost),
	    cmocka_unit_test(test_dummy_runs_bcrypt_and_never_matches),
	    cmocka_unit_test(test_dummy_refuses_bad_costs),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
