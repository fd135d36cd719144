#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "craft/arena.h"
#include "craft/buf.h"
#include "craft/common.h"

static int order[8];
static int norder;

static void record(void *data)
{
	order[norder++] = *(int *)data;
}

static void test_arena_alloc_alignment_and_contents(void **state)
{
	(void)state;
	craft_arena *a = craft_arena_new(256);
	char *prev = NULL;
	for (int i = 0; i < 1000; i++) {
		char *p = craft_arena_alloc(a, (size_t)(i % 37) + 1);
		assert_int_equal((uintptr_t)p % 16, 0);
		memset(p, 'a' + i % 26, (size_t)(i % 37) + 1);
		if (prev)
			assert_true(prev[0] >= 'a' && prev[0] <= 'z');
		prev = p;
	}
	char *big = craft_arena_alloc(a, 10000); /* larger than a block */
	memset(big, 1, 10000);
	char *z = craft_arena_calloc(a, 100, 3);
	for (int i = 0; i < 300; i++)
		assert_int_equal(z[i], 0);
	assert_true(craft_arena_used(a) >= 10000 + 300);
	craft_arena_free(a);
}

static void test_arena_strings(void **state)
{
	(void)state;
	craft_arena *a = craft_arena_new(0);
	assert_string_equal(craft_arena_strdup(a, "paper"), "paper");
	assert_string_equal(craft_arena_strndup(a, "crane!", 5), "crane");
	assert_string_equal(craft_arena_sprintf(a, "%s-%d", "fold", 42), "fold-42");
	char longer[5000];
	memset(longer, 'x', sizeof(longer) - 1);
	longer[sizeof(longer) - 1] = '\0';
	assert_int_equal(strlen(craft_arena_sprintf(a, "%s", longer)), sizeof(longer) - 1);
	craft_arena_free(a);
	craft_arena_free(NULL);
}

static void test_arena_cleanups_run_in_reverse(void **state)
{
	(void)state;
	static int one = 1, two = 2, three = 3;
	norder = 0;
	craft_arena *a = craft_arena_new(0);
	craft_arena_cleanup_add(a, record, &one);
	craft_arena_cleanup_add(a, record, &two);
	craft_arena_cleanup_add(a, record, &three);
	assert_int_equal(norder, 0);
	craft_arena_free(a);
	assert_int_equal(norder, 3);
	assert_int_equal(order[0], 3);
	assert_int_equal(order[1], 2);
	assert_int_equal(order[2], 1);
}

static void test_buf_bound(void **state)
{
	(void)state;
	craft_buf b;
	craft_buf_init(&b, 10);
	assert_int_equal(craft_buf_append_str(&b, "hello"), CRAFT_OK);
	assert_int_equal(craft_buf_append_str(&b, "world"), CRAFT_OK);
	assert_int_equal(b.len, 10);
	assert_string_equal(b.data, "helloworld");
	assert_int_equal(craft_buf_append_str(&b, "!"), CRAFT_ETOOBIG);
	assert_string_equal(b.data, "helloworld"); /* unchanged */
	assert_int_equal(craft_buf_printf(&b, "%d", 1), CRAFT_ETOOBIG);
	craft_buf_reset(&b);
	assert_int_equal(b.len, 0);
	assert_int_equal(craft_buf_printf(&b, "%s=%03d", "n", 7), CRAFT_OK);
	assert_string_equal(b.data, "n=007");
	assert_int_equal(craft_buf_printf(&b, "%s", "123456"), CRAFT_ETOOBIG);
	assert_string_equal(b.data, "n=007");
	craft_buf_truncate(&b, 2);
	assert_int_equal(b.len, 2);
	assert_string_equal(b.data, "n=");
	craft_buf_truncate(&b, 9); /* past the end: nothing changes */
	assert_string_equal(b.data, "n=");
	assert_int_equal(craft_buf_append_str(&b, "007"), CRAFT_OK);
	size_t len = 0;
	char *s = craft_buf_steal(&b, &len);
	assert_string_equal(s, "n=007");
	assert_int_equal(len, 5);
	free(s);
	assert_null(b.data);
	craft_buf_cleanup(&b);
}

static void test_buf_growth_and_binary(void **state)
{
	(void)state;
	craft_buf b;
	craft_buf_init(&b, 1 << 20);
	for (int i = 0; i < 100000; i++)
		assert_int_equal(craft_buf_append(&b, "\0ab", 3), CRAFT_OK);
	assert_int_equal(b.len, 300000);
	assert_int_equal(b.data[3], '\0');
	assert_int_equal(b.data[4], 'a');
	assert_int_equal(b.data[b.len], '\0');
	craft_buf_cleanup(&b);
	craft_buf_init(&b, 0);
	assert_int_equal(craft_buf_append(&b, "", 0), CRAFT_OK);
	assert_int_equal(craft_buf_append(&b, "x", 1), CRAFT_ETOOBIG);
	craft_buf_cleanup(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_arena_alloc_alignment_and_contents),
	    cmocka_unit_test(test_arena_strings),
	    cmocka_unit_test(test_arena_cleanups_run_in_reverse),
	    cmocka_unit_test(test_buf_bound),
	    cmocka_unit_test(test_buf_growth_and_binary),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
