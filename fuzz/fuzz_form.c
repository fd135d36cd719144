/* fuzz_form - application/x-www-form-urlencoded bodies (lib/craft/form.h).
 *
 * A body that parses gives a JSON object of strings, at most
 * CRAFT_FORM_MAX_FIELDS members, each value valid UTF-8 without NUL bytes
 * (jansson checks UTF-8 when the string is made). Independently of the parser,
 * every field name in the body is decoded here, and each one must be a member:
 * the first occurrence of a name wins, but no name may be lost.
 */
#include "fuzz_common.h"

#include "craft/common.h"
#include "craft/form.h"

#include <jansson.h>

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* A second, deliberately plain decoder: '+' is a space, %XX a byte. Returns
 * false for a bad escape or a NUL byte; out has room for len + 1. */
static bool decode_name(const char *s, size_t len, char *out)
{
	size_t o = 0;

	for (size_t i = 0; i < len; i++) {
		int c = (unsigned char)s[i];
		if (c == '+') {
			c = ' ';
		} else if (c == '%') {
			if (len - i < 3 || hex_digit(s[i + 1]) < 0 || hex_digit(s[i + 2]) < 0)
				return false;
			c = hex_digit(s[i + 1]) * 16 + hex_digit(s[i + 2]);
			i += 2;
		}
		if (c == 0)
			return false;
		out[o++] = (char)c;
	}
	out[o] = '\0';
	return true;
}

/* Every field name of the body must be a member of `obj`. */
static void check_names(const char *body, size_t len, json_t *obj)
{
	char *name = malloc(len + 1);
	const char *p = body, *end = body + len;

	if (!name)
		abort();
	while (p < end) {
		const char *amp = memchr(p, '&', (size_t)(end - p));
		const char *stop = amp ? amp : end;
		const char *eq = memchr(p, '=', (size_t)(stop - p));
		const char *kend = eq ? eq : stop;
		if (stop > p) {
			fuzz_require(decode_name(p, (size_t)(kend - p), name),
				     "a parsed body has only well-formed names");
			fuzz_require(json_object_get(obj, name) != NULL,
				     "every field name of a parsed body is a member");
		}
		if (!amp)
			break;
		p = amp + 1;
	}
	free(name);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *body = (const char *)data;
	json_t *obj = NULL;

	int rc = craft_form_parse(body, size, &obj);
	if (rc != CRAFT_OK) {
		fuzz_require(rc == CRAFT_EINVAL, "form result code");
		return 0;
	}
	fuzz_require(json_is_object(obj), "a form is an object");
	fuzz_require(json_object_size(obj) <= CRAFT_FORM_MAX_FIELDS, "field bound");
	const char *key;
	json_t *value;
	json_object_foreach (obj, key, value) {
		fuzz_require(json_is_string(value), "form values are strings");
		fuzz_require(strlen(json_string_value(value)) == json_string_length(value),
			     "form values hold no NUL");
	}
	check_names(body, size, obj);
	json_decref(obj);
	return 0;
}
