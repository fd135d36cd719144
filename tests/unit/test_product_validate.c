/* product's pure rules for what an administrator may store. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "craft/common.h"
#include "product/validate.h"

static void test_names(void **state)
{
	(void)state;
	char long_name[300];
	memset(long_name, 'n', sizeof(long_name));
	long_name[255] = '\0';
	assert_null(product_check_name("Origami Crane"));
	assert_null(product_check_name(long_name));
	long_name[255] = 'n';
	long_name[256] = '\0';
	assert_non_null(product_check_name(long_name));
	assert_non_null(product_check_name(""));
	assert_non_null(product_check_name("   "));
	assert_non_null(product_check_name("bad\nname"));
	/* 255 two-byte characters are 255 characters */
	char utf8[600] = "";
	for (int i = 0; i < 255; i++)
		memcpy(utf8 + 2 * i, "\xc3\xb1", 2);
	assert_null(product_check_name(utf8));
}

static void test_descriptions(void **state)
{
	(void)state;
	static char d[10002];
	memset(d, 'd', 10000);
	d[10000] = '\0';
	assert_null(product_check_description(d));
	assert_null(product_check_description(""));
	assert_null(product_check_description("two\nlines"));
	d[10000] = 'd';
	d[10001] = '\0';
	assert_non_null(product_check_description(d));
}

static void test_image_urls(void **state)
{
	(void)state;
	const char *good[] = {"/static/images/origami/crane.svg", "/static/a.png",
			      "https://example.com/x.png", "https://cdn.example.com"};
	const char *bad[] = {"",
			     "/static/",
			     "/static/../etc/passwd",
			     "/static/a/..",
			     "/static//x",
			     "/static/%2e%2e/x",
			     "/static/a%2Fb",
			     "/images/x.png",
			     "http://example.com/x.png",
			     "https://",
			     "https://user@evil.com/",
			     "javascript:alert(1)",
			     "/static/a b.png",
			     "/static/a\"onerror=\".png",
			     "/static/a\\b",
			     "data:image/svg+xml,<svg>"};
	for (size_t i = 0; i < CRAFT_ARRAY_LEN(good); i++)
		if (product_check_image_url(good[i]))
			fail_msg("refused %s", good[i]);
	for (size_t i = 0; i < CRAFT_ARRAY_LEN(bad); i++)
		if (!product_check_image_url(bad[i]))
			fail_msg("accepted %s", bad[i]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_names),
	    cmocka_unit_test(test_descriptions),
	    cmocka_unit_test(test_image_urls),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
