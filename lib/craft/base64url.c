#include "base64url.h"

#include <stdint.h>
#include <string.h>

#include "common.h"

static const char alphabet[65] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* The 6-bit value of a base64url character, or -1. */
static int sextet(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '-')
		return 62;
	if (c == '_')
		return 63;
	return -1;
}

size_t craft_base64url_encoded_len(size_t len)
{
	size_t full = len / 3 * 4;

	switch (len % 3) {
	case 1: return full + 2;
	case 2: return full + 3;
	default: return full;
	}
}

size_t craft_base64url_decoded_len(size_t len)
{
	size_t full = len / 4 * 3;

	switch (len % 4) {
	case 2: return full + 1;
	case 3: return full + 2;
	default: return full;
	}
}

int craft_base64url_encode(const void *data, size_t len, char *out, size_t out_size,
			   size_t *out_len)
{
	const unsigned char *in = data;
	size_t need = craft_base64url_encoded_len(len);
	size_t i = 0, o = 0;

	if (out_size < need + 1)
		return CRAFT_ETOOBIG;
	for (; i + 3 <= len; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
		out[o++] = alphabet[v >> 18 & 63];
		out[o++] = alphabet[v >> 12 & 63];
		out[o++] = alphabet[v >> 6 & 63];
		out[o++] = alphabet[v & 63];
	}
	if (len - i == 1) {
		out[o++] = alphabet[in[i] >> 2];
		out[o++] = alphabet[(in[i] & 3) << 4];
	} else if (len - i == 2) {
		uint32_t v = (uint32_t)in[i] << 8 | in[i + 1];
		out[o++] = alphabet[v >> 10 & 63];
		out[o++] = alphabet[v >> 4 & 63];
		out[o++] = alphabet[(v & 15) << 2];
	}
	out[o] = '\0';
	if (out_len)
		*out_len = o;
	return CRAFT_OK;
}

char *craft_base64url_encode_alloc(const void *data, size_t len)
{
	size_t size = craft_base64url_encoded_len(len) + 1;
	char *out = craft_xmalloc(size);

	craft_base64url_encode(data, len, out, size, NULL);
	return out;
}

/* Decode the 2 or 3 characters of a final partial group; EINVAL when the bits
 * that do not make a whole byte are not zero (a non-canonical spelling). */
static int decode_tail(const int *s, size_t n, unsigned char *out)
{
	if (n == 2) {
		if (s[1] & 15)
			return CRAFT_EINVAL;
		out[0] = (unsigned char)(s[0] << 2 | s[1] >> 4);
		return CRAFT_OK;
	}
	if (n != 3 || s[2] & 3)
		return CRAFT_EINVAL;
	out[0] = (unsigned char)(s[0] << 2 | s[1] >> 4);
	out[1] = (unsigned char)((s[1] & 15) << 4 | s[2] >> 2);
	return CRAFT_OK;
}

int craft_base64url_decode(const char *in, size_t len, void *out, size_t out_size, size_t *out_len)
{
	unsigned char *dst = out;
	size_t need = craft_base64url_decoded_len(len);
	size_t i = 0, o = 0;
	int s[4] = {0};

	if (len % 4 == 1)
		return CRAFT_EINVAL;
	if (need > out_size)
		return CRAFT_ETOOBIG;
	while (i < len) {
		size_t n = len - i < 4 ? len - i : 4;
		for (size_t k = 0; k < n; k++) {
			s[k] = sextet((unsigned char)in[i + k]);
			if (s[k] < 0)
				return CRAFT_EINVAL;
		}
		if (n < 4) {
			if (decode_tail(s, n, dst + o) != CRAFT_OK)
				return CRAFT_EINVAL;
			o += n - 1;
			break;
		}
		dst[o++] = (unsigned char)(s[0] << 2 | s[1] >> 4);
		dst[o++] = (unsigned char)((s[1] & 15) << 4 | s[2] >> 2);
		dst[o++] = (unsigned char)((s[2] & 3) << 6 | s[3]);
		i += 4;
	}
	if (out_len)
		*out_len = o;
	return CRAFT_OK;
}
