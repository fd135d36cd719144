/* auth's administrator bootstrap: the ADMIN_* settings checked at start, and
 * no thread when no administrator is configured. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "craft/common.h"

#include "auth/bootstrap.h"

/* The check's result for these settings, with its message in `err`. */
static int check(const char *user, const char *password, const char *email, char *err)
{
	struct auth_admin_settings s = {
	    .username = user, .password = password, .email = email, .bcrypt_cost = 4};
	err[0] = '\0';
	return auth_bootstrap_check(&s, err, 256);
}

static void test_settings(void **state)
{
	(void)state;
	char err[256];
	assert_int_equal(check("", "", "", err), CRAFT_OK); /* no administrator */
	assert_int_equal(check("admin", "correct horse", "", err), CRAFT_OK);
	assert_int_equal(check("admin", "correct horse", "root@shop.example", err), CRAFT_OK);

	assert_int_equal(check("admin", "", "", err), CRAFT_EINVAL);
	assert_non_null(strstr(err, "set together"));
	assert_int_equal(check("", "correct horse", "", err), CRAFT_EINVAL);
	assert_non_null(strstr(err, "set together"));
	assert_int_equal(check("a", "correct horse", "", err), CRAFT_EINVAL);
	assert_non_null(strstr(err, "ADMIN_USERNAME"));
	assert_int_equal(check("admin", "short", "", err), CRAFT_EINVAL);
	assert_non_null(strstr(err, "ADMIN_PASSWORD"));
	assert_int_equal(check("admin", "correct horse", "not-an-address", err), CRAFT_EINVAL);
	assert_non_null(strstr(err, "ADMIN_EMAIL"));
	/* the password itself never appears in the message */
	assert_int_equal(check("x", "a secret pass", "", err), CRAFT_EINVAL);
	assert_null(strstr(err, "a secret pass"));
}

static void test_nothing_to_start(void **state)
{
	(void)state;
	struct auth_bootstrap b;
	auth_bootstrap_init(&b);
	struct auth_admin_settings none = {.username = "", .password = "", .email = ""};
	assert_int_equal(auth_bootstrap_start(&b, NULL, &none), CRAFT_OK);
	assert_false(b.started);
	auth_bootstrap_stop(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_settings),
	    cmocka_unit_test(test_nothing_to_start),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
