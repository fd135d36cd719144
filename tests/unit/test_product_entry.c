/* product's cache entries and entity tags: pure encoding. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "craft/common.h"
#include "product/entry.h"

static void test_item_entries(void **state)
{
	(void)state;
	long long v = 0;
	const char *payload = NULL;
	size_t len = 0;
	const char *e = "42|{\"id\":1}";
	assert_int_equal(product_entry_item(e, strlen(e), &v, &payload, &len), 0);
	assert_int_equal(v, 42);
	assert_int_equal(len, 8);
	assert_memory_equal(payload, "{\"id\":1}", 8);
	/* a deleted product */
	assert_int_equal(product_entry_item("7|", 2, &v, &payload, &len), 0);
	assert_int_equal(v, 7);
	assert_int_equal(len, 0);
	/* malformed */
	assert_int_equal(product_entry_item("", 0, &v, &payload, &len), -1);
	assert_int_equal(product_entry_item("|x", 2, &v, &payload, &len), -1);
	assert_int_equal(product_entry_item("12", 2, &v, &payload, &len), -1);
	assert_int_equal(product_entry_item("1a|x", 4, &v, &payload, &len), -1);
	assert_int_equal(product_entry_item("99999999999999999999|x", 22, &v, &payload, &len), -1);
	/* the length bounds the parse: no NUL needed */
	assert_int_equal(product_entry_item("5|abc", 3, &v, &payload, &len), 0);
	assert_int_equal(len, 1);
}

static void test_list_entries(void **state)
{
	(void)state;
	struct product_list_entry e;
	const char *invalid = "ab12.7|";
	assert_int_equal(product_entry_list(invalid, strlen(invalid), &e), 0);
	assert_false(e.valid);
	assert_int_equal(e.gen_len, 6);
	assert_memory_equal(e.gen, "ab12.7", 6);

	const char *valid = "ab12.7|\"l00ff\"|[{\"id\":1,\"name\":\"a|b\"}]";
	assert_int_equal(product_entry_list(valid, strlen(valid), &e), 0);
	assert_true(e.valid);
	assert_int_equal(e.etag_len, 7);
	assert_memory_equal(e.etag, "\"l00ff\"", 7);
	assert_int_equal(e.json_len, strlen("[{\"id\":1,\"name\":\"a|b\"}]"));
	assert_memory_equal(e.json, "[{\"id\":1,\"name\":\"a|b\"}]", e.json_len);

	assert_int_equal(product_entry_list("", 0, &e), -1);
	assert_int_equal(product_entry_list("nobar", 5, &e), -1);
	assert_int_equal(product_entry_list("|x|y", 4, &e), -1);   /* empty generation */
	assert_int_equal(product_entry_list("g|etag", 6, &e), -1); /* filled, no second bar */
	assert_int_equal(product_entry_list("g||[]", 5, &e), -1);  /* empty ETag */
	char big[100];
	memset(big, 'g', sizeof(big));
	big[99] = '|';
	assert_int_equal(product_entry_list(big, sizeof(big), &e), -1);
}

static void test_item_etags(void **state)
{
	(void)state;
	char etag[PRODUCT_ETAG_MAX];
	product_etag_item(etag, 123);
	assert_string_equal(etag, "\"p123\"");
	product_etag_item(etag, 9223372036854775807LL);
	assert_string_equal(etag, "\"p9223372036854775807\"");
}

static void test_list_etags(void **state)
{
	(void)state;
	struct product a[3] = {
	    {.id = 1, .version = 10}, {.id = 2, .version = 11}, {.id = 3, .version = 12}};
	char e1[PRODUCT_ETAG_MAX], e2[PRODUCT_ETAG_MAX];
	product_etag_list(e1, a, 3);
	assert_int_equal(strlen(e1), 35);
	assert_true(e1[0] == '"' && e1[1] == 'l' && e1[34] == '"');
	/* same pairs, same tag (names and counts do not enter it: versions do) */
	struct product b[3];
	memcpy(b, a, sizeof(a));
	b[1].votes = 99;
	product_etag_list(e2, b, 3);
	assert_string_equal(e1, e2);
	/* a new version, a row fewer, or versions swapped between ids: another tag */
	b[1].version = 13;
	product_etag_list(e2, b, 3);
	assert_string_not_equal(e1, e2);
	product_etag_list(e2, a, 2);
	assert_string_not_equal(e1, e2);
	memcpy(b, a, sizeof(a));
	b[0].version = 11;
	b[1].version = 10;
	product_etag_list(e2, b, 3);
	assert_string_not_equal(e1, e2);
	/* the empty catalogue has a tag too */
	product_etag_list(e2, a, 0);
	assert_int_equal(strlen(e2), 35);
	assert_string_not_equal(e1, e2);
}

static void test_tokens_and_keys(void **state)
{
	(void)state;
	char t1[PRODUCT_TOKEN_MAX], t2[PRODUCT_TOKEN_MAX];
	product_token_format(t1, "0123456789abcdef", 0);
	product_token_format(t2, "0123456789abcdef", 1);
	assert_string_equal(t1, "0123456789abcdef.0");
	assert_string_not_equal(t1, t2);
	assert_null(strchr(t2, '|'));
	product_token_format(t1, "0123456789abcdef", 18446744073709551615ULL);
	assert_string_equal(t1, "0123456789abcdef.18446744073709551615");

	char key[40];
	assert_int_equal(product_key(key, sizeof(key), "craftista:v1:product:", 42), 23);
	assert_string_equal(key, "craftista:v1:product:42");
	assert_int_equal(product_key(key, sizeof(key), "p:", 0), 3);
	assert_string_equal(key, "p:0");
	assert_int_equal(product_key(key, sizeof(key), "p:", -5), 4);
	assert_string_equal(key, "p:-5");
	assert_int_equal(product_key(key, 5, "p:", 123), 0); /* "p:123" needs 6 bytes */
	assert_int_equal(product_key(key, 6, "p:", 123), 5);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_item_entries),    cmocka_unit_test(test_list_entries),
	    cmocka_unit_test(test_item_etags),      cmocka_unit_test(test_list_etags),
	    cmocka_unit_test(test_tokens_and_keys),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
