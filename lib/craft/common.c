#include "common.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *craft_strerror(int result)
{
	switch (result) {
	case CRAFT_OK: return "success";
	case CRAFT_EINVAL: return "invalid input";
	case CRAFT_ENOTFOUND: return "not found";
	case CRAFT_ETOOBIG: return "too large";
	case CRAFT_ETIMEOUT: return "timed out";
	case CRAFT_EUNAVAIL: return "unavailable";
	case CRAFT_ECONFLICT: return "conflict";
	case CRAFT_EIO: return "i/o error";
	case CRAFT_EINTERNAL: return "internal error";
	default: return "unknown error";
	}
}

void craft_oom(size_t size)
{
	fprintf(stderr, "craft: out of memory allocating %zu bytes, aborting\n", size);
	abort();
}

void *craft_xmalloc(size_t size)
{
	void *p = malloc(size ? size : 1);
	if (!p)
		craft_oom(size);
	return p;
}

void *craft_xcalloc(size_t count, size_t size)
{
	void *p = calloc(count ? count : 1, size ? size : 1);
	if (!p)
		craft_oom(count * size);
	return p;
}

void *craft_xrealloc(void *ptr, size_t size)
{
	void *p = realloc(ptr, size ? size : 1);
	if (!p)
		craft_oom(size);
	return p;
}

char *craft_xstrdup(const char *s)
{
	size_t n = strlen(s) + 1;
	char *p = craft_xmalloc(n);
	memcpy(p, s, n);
	return p;
}

void craft_hex_encode(const void *in, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	const unsigned char *p = in;
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[p[i] >> 4];
		out[2 * i + 1] = digits[p[i] & 0x0f];
	}
	out[2 * n] = '\0';
}

int craft_hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}
