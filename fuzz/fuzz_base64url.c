/* fuzz_base64url - strict base64url (lib/craft/base64url.h).
 *
 * The input is decoded as text; when that succeeds, encoding the bytes must
 * give the input back exactly (one accepted spelling per value). The input is
 * also encoded as bytes, and that text must decode to the input. Output
 * buffers are sized exactly so AddressSanitizer sees any write past them, and
 * one byte too small must be refused.
 */
#include "fuzz_common.h"

#include "craft/base64url.h"
#include "craft/common.h"

static void check_decode(const char *text, size_t len)
{
	size_t cap = craft_base64url_decoded_len(len);
	unsigned char *bytes = malloc(cap ? cap : 1);
	size_t n = 0;

	if (!bytes)
		abort();
	int rc = craft_base64url_decode(text, len, bytes, cap, &n);
	fuzz_require(rc == CRAFT_OK || rc == CRAFT_EINVAL, "decode result code");
	if (rc == CRAFT_OK) {
		fuzz_require(n == cap, "decoded_len is exact for input that decodes");
		fuzz_require(craft_base64url_encoded_len(n) == len, "encoded_len inverts");
		char *again = craft_base64url_encode_alloc(bytes, n);
		fuzz_require(strlen(again) == len && memcmp(again, text, len) == 0,
			     "decoded input encodes back to itself");
		free(again);
		if (cap > 0)
			fuzz_require(craft_base64url_decode(text, len, bytes, cap - 1, NULL) ==
					 CRAFT_ETOOBIG,
				     "decode into a buffer one byte short is refused");
	}
	free(bytes);
}

static void check_encode(const unsigned char *bytes, size_t len)
{
	size_t need = craft_base64url_encoded_len(len) + 1;
	char *text = malloc(need);
	size_t n = 0;

	if (!text)
		abort();
	fuzz_require(craft_base64url_encode(bytes, len, text, need - 1, NULL) == CRAFT_ETOOBIG,
		     "encode without room for the NUL is refused");
	fuzz_require(craft_base64url_encode(bytes, len, text, need, &n) == CRAFT_OK,
		     "encode into an exact buffer");
	fuzz_require(n == need - 1 && text[n] == '\0', "encoded length and NUL");
	unsigned char *back = malloc(len ? len : 1);
	size_t m = 0;
	if (!back)
		abort();
	fuzz_require(craft_base64url_decode(text, n, back, len, &m) == CRAFT_OK,
		     "encoded text decodes");
	fuzz_require(m == len && (len == 0 || memcmp(back, bytes, len) == 0),
		     "encode then decode gives the bytes back");
	free(back);
	free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	check_decode((const char *)data, size);
	check_encode(data, size);
	return 0;
}
