#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "craft/common.h"
#include "craft/form.h"

static const char *get(json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

static void test_fields(void **state)
{
	(void)state;
	json_t *o = NULL;
	const char *body = "username=alice&password=p%40ss+word%21&_csrf=x&empty=&flag&"
			   "username=second&caf%C3%A9=%E2%9C%93";
	assert_int_equal(craft_form_parse(body, strlen(body), &o), CRAFT_OK);
	assert_string_equal(get(o, "username"), "alice"); /* first wins */
	assert_string_equal(get(o, "password"), "p@ss word!");
	assert_string_equal(get(o, "empty"), "");
	assert_string_equal(get(o, "flag"), "");
	assert_string_equal(get(o, "café"), "✓");
	json_decref(o);
	assert_int_equal(craft_form_parse("", 0, &o), CRAFT_OK);
	assert_int_equal(json_object_size(o), 0);
	json_decref(o);
	assert_int_equal(craft_form_parse("&&a=1&&", 7, &o), CRAFT_OK);
	assert_string_equal(get(o, "a"), "1");
	json_decref(o);
}

static void test_bad(void **state)
{
	(void)state;
	const char *bad[] = {"a=%",      "a=%4",  "a=%zz",        "a=%00", "%=1",
			     "a=%C3%28", "a=%ff", "%C3%28=x&b=1", "\x87=1"};
	for (size_t i = 0; i < CRAFT_ARRAY_LEN(bad); i++) {
		json_t *o = NULL;
		if (craft_form_parse(bad[i], strlen(bad[i]), &o) != CRAFT_EINVAL)
			fail_msg("accepted %s", bad[i]);
	}
	char many[1024] = "";
	for (int i = 0; i < CRAFT_FORM_MAX_FIELDS + 1; i++)
		memcpy(many + 4 * i, "a=1&", 4);
	json_t *o = NULL;
	assert_int_equal(craft_form_parse(many, strlen(many), &o), CRAFT_EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_fields),
	    cmocka_unit_test(test_bad),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
