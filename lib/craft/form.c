#include "form.h"

#include "common.h"

#include <stdlib.h>
#include <string.h>

/* Decode s[0..len) into out (room for len + 1); returns the length or -1. */
static long decode(const char *s, size_t len, char *out)
{
	size_t o = 0;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		if (c == '+') {
			c = ' ';
		} else if (c == '%') {
			if (i + 2 >= len)
				return -1;
			int hi = craft_hex_digit(s[i + 1]), lo = craft_hex_digit(s[i + 2]);
			if (hi < 0 || lo < 0)
				return -1;
			c = (char)(hi * 16 + lo);
			i += 2;
		}
		if (c == '\0')
			return -1;
		out[o++] = c;
	}
	out[o] = '\0';
	return (long)o;
}

int craft_form_parse(const char *body, size_t len, json_t **out)
{
	json_t *obj = json_object();
	char *buf = craft_xmalloc(len + 1);
	int rc = CRAFT_OK;
	size_t fields = 0;
	const char *p = body, *end = body + len;
	while (p < end && rc == CRAFT_OK) {
		const char *amp = memchr(p, '&', (size_t)(end - p));
		const char *stop = amp ? amp : end;
		if (stop > p) {
			const char *eq = memchr(p, '=', (size_t)(stop - p));
			const char *kend = eq ? eq : stop;
			if (++fields > CRAFT_FORM_MAX_FIELDS ||
			    decode(p, (size_t)(kend - p), buf) < 0) {
				rc = CRAFT_EINVAL;
				break;
			}
			char *key = craft_xstrdup(buf);
			const char *v = eq ? eq + 1 : stop;
			long vlen = decode(v, (size_t)(stop - v), buf);
			json_t *val = vlen < 0 ? NULL : json_stringn(buf, (size_t)vlen);
			if (!val)
				/* NOLINTNEXTLINE(bugprone-branch-clone): two causes, one result */
				rc = CRAFT_EINVAL; /* bad escape or invalid UTF-8 */
			else if (json_object_get(obj, key))
				json_decref(val);
			else if (json_object_set_new(obj, key, val) != 0)
				rc = CRAFT_EINVAL; /* the name is not valid UTF-8 */
			free(key);
		}
		p = stop + 1;
	}
	free(buf);
	if (rc) {
		json_decref(obj);
		return rc;
	}
	*out = obj;
	return CRAFT_OK;
}
