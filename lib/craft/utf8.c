#include "utf8.h"

#include "common.h"

#include <stdlib.h>
#include <string.h>

/* Length of the valid UTF-8 sequence at s[0..n) (1-4), or 0 when the byte
 * there does not start one (RFC 3629: no overlong forms, no surrogates,
 * nothing above U+10FFFF). */
static size_t seq_len(const unsigned char *s, size_t n)
{
	unsigned char c = s[0];
	if (c < 0x80)
		return 1;
	size_t len;
	unsigned lo = 0x80, hi = 0xbf; /* bounds of the second byte */
	if (c >= 0xc2 && c <= 0xdf)
		len = 2;
	else if (c >= 0xe0 && c <= 0xef) {
		len = 3;
		if (c == 0xe0)
			lo = 0xa0; /* overlong */
		else if (c == 0xed)
			hi = 0x9f; /* surrogates */
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4;
		if (c == 0xf0)
			lo = 0x90; /* overlong */
		else if (c == 0xf4)
			hi = 0x8f; /* above U+10FFFF */
	} else {
		return 0;
	}
	if (n < len || s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < len; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	return len;
}

bool craft_utf8_valid(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	for (size_t i = 0; i < n;) {
		size_t len = seq_len(p + i, n - i);
		if (!len)
			return false;
		i += len;
	}
	return true;
}

/* Copy the n bytes of s into out, each invalid byte written as the text \xNN
 * (escape) or as U+FFFD; out has room for 4n + 1 bytes. */
static void rewrite(const char *s, size_t n, char *out, bool escape)
{
	static const char hex[] = "0123456789ABCDEF";
	const unsigned char *p = (const unsigned char *)s;
	char *o = out;
	for (size_t i = 0; i < n;) {
		size_t len = seq_len(p + i, n - i);
		if (len) {
			memcpy(o, p + i, len);
			o += len;
			i += len;
			continue;
		}
		if (escape) {
			memcpy(o, "\\x", 2);
			o[2] = hex[p[i] >> 4];
			o[3] = hex[p[i] & 15];
			o += 4;
		} else {
			memcpy(o, "\xef\xbf\xbd", 3);
			o += 3;
		}
		i++;
	}
	*o = '\0';
}

const char *craft_utf8_escape(craft_arena *arena, const char *s)
{
	if (!s)
		return NULL;
	size_t n = strlen(s);
	if (craft_utf8_valid(s, n))
		return s;
	char *out = craft_arena_alloc(arena, 4 * n + 1);
	rewrite(s, n, out, true);
	return out;
}

char *craft_utf8_repair(const char *s)
{
	size_t n = strlen(s);
	if (craft_utf8_valid(s, n))
		return NULL;
	char *out = craft_xmalloc(4 * n + 1);
	rewrite(s, n, out, false);
	return out;
}

json_t *craft_utf8_json_string(const char *s)
{
	json_t *j = json_string(s ? s : "");
	if (j)
		return j;
	char *fixed = craft_utf8_repair(s ? s : "");
	j = json_string(fixed ? fixed : "");
	free(fixed);
	return j;
}
