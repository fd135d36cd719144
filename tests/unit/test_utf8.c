#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "craft/arena.h"
#include "craft/common.h"
#include "craft/utf8.h"

static void test_valid(void **state)
{
	(void)state;
	const char *good[] = {"",
			      "/plain",
			      "caf\xc3\xa9",
			      "\xe2\x9c\x93",
			      "\xf0\x9f\x90\xa6",
			      "\xed\x9f\xbf",
			      "\xf4\x8f\xbf\xbf",
			      "\xe0\xa0\x80"};
	const char *bad[] = {"\xff",
			     "\xc0\xaf",
			     "\xc3",
			     "\xe0\x80\xaf",
			     "\xed\xa0\x80",
			     "\xf4\x90\x80\x80",
			     "\xf0\x8f\xbf\xbf",
			     "\x80",
			     "ok\xc3(",
			     "\xf5\x80\x80\x80"};
	for (size_t i = 0; i < CRAFT_ARRAY_LEN(good); i++) {
		if (!craft_utf8_valid(good[i], strlen(good[i])))
			fail_msg("refused good[%zu]", i);
		/* the judge: jansson accepts exactly these */
		json_t *j = json_string(good[i]);
		assert_non_null(j);
		json_decref(j);
	}
	for (size_t i = 0; i < CRAFT_ARRAY_LEN(bad); i++) {
		if (craft_utf8_valid(bad[i], strlen(bad[i])))
			fail_msg("accepted bad[%zu]", i);
		assert_null(json_string(bad[i]));
	}
}

static void test_escape(void **state)
{
	(void)state;
	craft_arena *a = craft_arena_new(0);
	const char *same = "/caf\xc3\xa9";
	assert_ptr_equal(craft_utf8_escape(a, same), same);
	assert_null(craft_utf8_escape(a, NULL));
	assert_string_equal(craft_utf8_escape(a, "/\xff"), "/\\xFF");
	assert_string_equal(craft_utf8_escape(a, "G\xc3T \xe2\x9c\x93\x80"),
			    "G\\xC3T \xe2\x9c\x93\\x80");
	assert_string_equal(craft_utf8_escape(a, "\xed\xa0\x80"), "\\xED\\xA0\\x80");
	/* whatever goes in, the result is valid UTF-8 */
	char all[256];
	for (int i = 1; i < 256; i++)
		all[i - 1] = (char)i;
	all[255] = '\0';
	const char *e = craft_utf8_escape(a, all);
	json_t *j = json_string(e);
	assert_non_null(j);
	json_decref(j);
	craft_arena_free(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_valid),
	    cmocka_unit_test(test_escape),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
