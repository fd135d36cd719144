/* Unit tests for lib/craft/base64url.c: strict unpadded base64url. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "craft/base64url.h"
#include "craft/common.h"

struct vector {
	const char *plain;
	size_t plain_len;
	const char *encoded;
};

/* RFC 4648 section 10 test vectors (without the padding), and bytes that use
 * the two URL-safe characters. */
static const struct vector vectors[] = {
    {.plain = "", .plain_len = 0, .encoded = ""},
    {.plain = "f", .plain_len = 1, .encoded = "Zg"},
    {.plain = "fo", .plain_len = 2, .encoded = "Zm8"},
    {.plain = "foo", .plain_len = 3, .encoded = "Zm9v"},
    {.plain = "foob", .plain_len = 4, .encoded = "Zm9vYg"},
    {.plain = "fooba", .plain_len = 5, .encoded = "Zm9vYmE"},
    {.plain = "foobar", .plain_len = 6, .encoded = "Zm9vYmFy"},
    {.plain = "\xfb\xff", .plain_len = 2, .encoded = "-_8"},
    {.plain = "\xff\xff\xff", .plain_len = 3, .encoded = "____"},
    {.plain = "\x00\x00\x00", .plain_len = 3, .encoded = "AAAA"},
    {.plain = "\xf8\x3e", .plain_len = 2, .encoded = "-D4"},
};

static void test_encode_vectors(void **state)
{
	(void)state;
	for (size_t i = 0; i < CRAFT_ARRAY_LEN(vectors); i++) {
		const struct vector *v = &vectors[i];
		char out[32];
		size_t n = 99;
		assert_int_equal(craft_base64url_encoded_len(v->plain_len), strlen(v->encoded));
		assert_int_equal(
		    craft_base64url_encode(v->plain, v->plain_len, out, sizeof(out), &n), CRAFT_OK);
		assert_string_equal(out, v->encoded);
		assert_int_equal(n, strlen(v->encoded));
		char *dyn = craft_base64url_encode_alloc(v->plain, v->plain_len);
		assert_string_equal(dyn, v->encoded);
		free(dyn);
	}
}

static void test_decode_vectors(void **state)
{
	(void)state;
	for (size_t i = 0; i < CRAFT_ARRAY_LEN(vectors); i++) {
		const struct vector *v = &vectors[i];
		unsigned char out[32];
		size_t n = 99;
		size_t len = strlen(v->encoded);
		assert_int_equal(craft_base64url_decoded_len(len), v->plain_len);
		assert_int_equal(craft_base64url_decode(v->encoded, len, out, sizeof(out), &n),
				 CRAFT_OK);
		assert_int_equal(n, v->plain_len);
		if (v->plain_len)
			assert_memory_equal(out, v->plain, v->plain_len);
	}
}

static void test_round_trip_all_lengths(void **state)
{
	unsigned char in[100], back[100];
	char enc[200];
	(void)state;
	for (size_t i = 0; i < sizeof(in); i++)
		in[i] = (unsigned char)(i * 37 + 11);
	for (size_t len = 0; len <= sizeof(in); len++) {
		size_t elen = 0, dlen = 0;
		assert_int_equal(craft_base64url_encode(in, len, enc, sizeof(enc), &elen),
				 CRAFT_OK);
		assert_int_equal(strlen(enc), elen);
		assert_null(strpbrk(enc, "=+/"));
		assert_int_equal(craft_base64url_decode(enc, elen, back, sizeof(back), &dlen),
				 CRAFT_OK);
		assert_int_equal(dlen, len);
		if (len)
			assert_memory_equal(back, in, len);
	}
}

struct bad_case {
	const char *text;
	size_t len;
	const char *why;
};

static const struct bad_case bad_cases[] = {
    {.text = "Zg==", .len = 4, .why = "padding"},
    {.text = "Zg=", .len = 3, .why = "one padding character"},
    {.text = "Zm9vYg==", .len = 8, .why = "padding after a full group"},
    {.text = "+/8", .len = 3, .why = "standard alphabet"},
    {.text = "Zm9v+mFy", .len = 8, .why = "plus"},
    {.text = "Zm9v/mFy", .len = 8, .why = "slash"},
    {.text = "Zm9v YmFy", .len = 9, .why = "space"},
    {.text = "Zm9vYmFy\n", .len = 9, .why = "trailing newline"},
    {.text = "Zm9v\r\nYmFy", .len = 10, .why = "CR LF"},
    {.text = "\tZm9v", .len = 5, .why = "leading tab"},
    {.text = "Z", .len = 1, .why = "length 1"},
    {.text = "Zm9vY", .len = 5, .why = "length 1 mod 4"},
    {.text = "Zh", .len = 2, .why = "non-zero trailing bits (1 byte)"},
    {.text = "Zm9", .len = 3, .why = "non-zero trailing bits (2 bytes)"},
    {.text = "Zm\0v", .len = 4, .why = "NUL inside"},
    {.text = "Zm9v\xc3\xa9", .len = 6, .why = "non-ASCII"},
    {.text = ".", .len = 1, .why = "dot"},
};

static void test_decode_rejects(void **state)
{
	unsigned char out[64];
	(void)state;
	for (size_t i = 0; i < CRAFT_ARRAY_LEN(bad_cases); i++) {
		const struct bad_case *c = &bad_cases[i];
		int rc = craft_base64url_decode(c->text, c->len, out, sizeof(out), NULL);
		if (rc != CRAFT_EINVAL)
			fail_msg("accepted or wrong result %d for case '%s'", rc, c->why);
	}
}

static void test_bounds(void **state)
{
	unsigned char small[5];
	char enc[8];
	size_t n = 0;
	(void)state;
	/* "foobar" needs 6 bytes */
	assert_int_equal(craft_base64url_decode("Zm9vYmFy", 8, small, sizeof(small), &n),
			 CRAFT_ETOOBIG);
	assert_int_equal(craft_base64url_decode("Zm9vYmE", 7, small, sizeof(small), &n), CRAFT_OK);
	assert_int_equal(n, 5);
	/* "foobar" encodes to 8 characters: 9 bytes with the NUL */
	memset(enc, 'x', sizeof(enc));
	assert_int_equal(craft_base64url_encode("foobar", 6, enc, sizeof(enc), NULL),
			 CRAFT_ETOOBIG);
	assert_int_equal(enc[0], 'x');
	assert_int_equal(craft_base64url_encode("fooba", 5, enc, sizeof(enc), &n), CRAFT_OK);
	assert_string_equal(enc, "Zm9vYmE");
	/* empty input, empty output buffer */
	assert_int_equal(craft_base64url_decode("", 0, small, 0, &n), CRAFT_OK);
	assert_int_equal(n, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_encode_vectors),
	    cmocka_unit_test(test_decode_vectors),
	    cmocka_unit_test(test_round_trip_all_lengths),
	    cmocka_unit_test(test_decode_rejects),
	    cmocka_unit_test(test_bounds),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
