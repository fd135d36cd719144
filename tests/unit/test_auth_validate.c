/* auth's pure rules: what may be registered, and bcrypt hashing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "auth/limiter.h"
#include "auth/password.h"
#include "auth/validate.h"
#include "craft/arena.h"
#include "craft/common.h"

static void test_usernames(void **state)
{
	(void)state;
	const char *good[] = {"abc", "paper_crane", "A.b-c_9", "x12",
			      "abcdefghijabcdefghijabcdefghijabcdefghijabcdefghij"};
	const char *bad[] = {"",           "ab",
			     "has space",  "tab\t",
			     "semi;colon", "ümlaut",
			     "a/b",        "abcdefghijabcdefghijabcdefghijabcdefghijabcdefghijk",
			     "<script>",   "quote'",
			     "at@sign"};
	for (size_t i = 0; i < CRAFT_ARRAY_LEN(good); i++)
		if (auth_check_username(good[i]))
			fail_msg("username %s refused", good[i]);
	for (size_t i = 0; i < CRAFT_ARRAY_LEN(bad); i++)
		if (!auth_check_username(bad[i]))
			fail_msg("username %s accepted", bad[i]);
}

static void test_emails(void **state)
{
	(void)state;
	const char *good[] = {"a@b.co", "first.last@example.com", "x+tag@sub.example.org",
			      "o'neil@example.ie", "UPPER@EXAMPLE.COM"};
	const char *bad[] = {
	    "",
	    "plain",
	    "@example.com",
	    "a@",
	    "a@b",
	    "a@@b.com",
	    "a@b@c.com",
	    ".a@b.com",
	    "a.@b.com",
	    "a..b@c.com",
	    "a b@c.com",
	    "a@-b.com",
	    "a@b-.com",
	    "a@b..com",
	    "a@.b.com",
	    "a@b.com.",
	    "a@b_c.com",
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaaaaaaaaaaaaaaaaaaaaa@example.com"};
	for (size_t i = 0; i < CRAFT_ARRAY_LEN(good); i++)
		if (auth_check_email(good[i]))
			fail_msg("email %s refused", good[i]);
	for (size_t i = 0; i < CRAFT_ARRAY_LEN(bad); i++)
		if (!auth_check_email(bad[i]))
			fail_msg("email %s accepted", bad[i]);
}

static void test_passwords(void **state)
{
	(void)state;
	char p[80];
	memset(p, 'x', sizeof(p));
	p[7] = '\0';
	assert_non_null(auth_check_password(p)); /* 7 */
	p[7] = 'x';
	p[8] = '\0';
	assert_null(auth_check_password(p)); /* 8 */
	memset(p, 'x', sizeof(p));
	p[72] = '\0';
	assert_null(auth_check_password(p)); /* 72 */
	p[72] = 'x';
	p[73] = '\0';
	assert_non_null(auth_check_password(p)); /* 73 */
	assert_non_null(strstr(auth_check_password(p), "72"));
}

static void test_bcrypt_round_trip(void **state)
{
	(void)state;
	char hash[AUTH_HASH_MAX], again[AUTH_HASH_MAX];
	assert_int_equal(auth_password_hash("paper-crane-1", 4, hash), CRAFT_OK);
	assert_memory_equal(hash, "$2b$04$", 7);
	assert_int_equal(strlen(hash), 60);
	assert_true(auth_password_check("paper-crane-1", hash));
	assert_false(auth_password_check("paper-crane-2", hash));
	assert_false(auth_password_check("", hash));
	/* fresh salt each time */
	assert_int_equal(auth_password_hash("paper-crane-1", 4, again), CRAFT_OK);
	assert_string_not_equal(hash, again);
	/* malformed hashes never match */
	assert_false(auth_password_check("paper-crane-1", "plain-text"));
	assert_false(auth_password_check("paper-crane-1", "$2b$04$short"));
	assert_false(auth_password_check("x", ""));
	assert_int_equal(auth_password_hash("x", 3, hash), CRAFT_EINVAL);
	assert_int_equal(auth_password_hash("x", 17, hash), CRAFT_EINVAL);
}

static void test_login_names(void **state)
{
	(void)state;
	const char *possible[] = {"kiki", "Paper_Crane", "a@b.co", "o'neil+tag@example.com", "!"};
	for (size_t i = 0; i < CRAFT_ARRAY_LEN(possible); i++)
		assert_true(auth_login_name_possible(possible[i]));
	/* U+212A KELVIN SIGN, U+0130, Latin-1, controls, spaces, empty, too long */
	const char *impossible[] = {"\xe2\x84\xaaiki", "k\xc4\xb0ki", "caf\xc3\xa9",
				    "tab\tname",       "two words",   "",
				    "del\x7f"};
	for (size_t i = 0; i < CRAFT_ARRAY_LEN(impossible); i++)
		assert_false(auth_login_name_possible(impossible[i]));
	char long_name[AUTH_EMAIL_MAX + 2];
	memset(long_name, 'a', sizeof(long_name));
	long_name[AUTH_EMAIL_MAX] = '\0';
	assert_true(auth_login_name_possible(long_name));
	long_name[AUTH_EMAIL_MAX] = 'a';
	long_name[AUTH_EMAIL_MAX + 1] = '\0';
	assert_false(auth_login_name_possible(long_name));
}

static void test_limiter_accounts(void **state)
{
	(void)state;
	craft_arena *arena = craft_arena_new(0);
	/* a resolved user is its id, whatever was typed */
	assert_string_equal(auth_limiter_account(arena, 42, "KIKI"), "user:42");
	assert_string_equal(auth_limiter_account(arena, 42, "kiki@example.com"), "user:42");
	/* unknown names: ASCII case folded, nothing else, and bounded */
	const char *a = auth_limiter_account(arena, 0, "Ghost.Name");
	assert_string_equal(a, auth_limiter_account(arena, 0, "ghost.name"));
	assert_string_not_equal(a, auth_limiter_account(arena, 0, "ghost.nam"));
	assert_memory_equal(a, "name:", 5);
	assert_int_equal(strlen(a), 5 + 32);
	craft_arena_free(arena);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_usernames),   cmocka_unit_test(test_emails),
	    cmocka_unit_test(test_passwords),   cmocka_unit_test(test_bcrypt_round_trip),
	    cmocka_unit_test(test_login_names), cmocka_unit_test(test_limiter_accounts),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
