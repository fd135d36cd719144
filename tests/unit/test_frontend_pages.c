/* The frontend's pure helpers: shortened stories. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "craft/arena.h"
#include "frontend/pages.h"

static void test_shorten(void **state)
{
	(void)state;
	craft_arena *a = craft_arena_new(0);
	bool cut = true;
	assert_string_equal(page_shorten(a, "Short story.", 160, &cut), "Short story.");
	assert_false(cut);
	const char *two = "The first sentence is long enough to keep. The second one would not fit "
			  "in the space we have.";
	assert_string_equal(page_shorten(a, two, 60, &cut),
			    "The first sentence is long enough to keep. …");
	assert_true(cut);
	const char *words = "alpha beta gamma delta epsilon zeta eta theta iota kappa";
	assert_string_equal(page_shorten(a, words, 20, &cut), "alpha beta gamma…");
	/* multi-byte characters count once and are never split */
	const char *utf8 = "ééééé ééééé ééééé";
	const char *s = page_shorten(a, utf8, 8, &cut);
	assert_string_equal(s, "ééééé…");
	craft_arena_free(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_shorten),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
