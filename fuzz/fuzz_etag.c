/* fuzz_etag - If-None-Match lists against an entity tag (lib/craft/http.h).
 *
 * Input: the header value, a newline, then our entity tag (no newline: the
 * tag "\"p42\""). Any input must be handled without a memory error; for a
 * well-formed tag of ours: matching is weak (a W/ prefix on our tag changes
 * nothing), a header that is exactly our tag, or "*", matches, and any match
 * means the header names our opaque tag or holds "*".
 */
#include "fuzz_common.h"

#include "craft/http.h"

/* The tag with any W/ prefix dropped. */
static const char *opaque(const char *tag)
{
	return tag[0] == 'W' && tag[1] == '/' ? tag + 2 : tag;
}

/* A tag as we make them: optional W/, a quote, no quote, a quote, nothing after. */
static bool well_formed(const char *tag)
{
	const char *t = opaque(tag);
	size_t n = strlen(t);
	return n >= 2 && t[0] == '"' && strchr(t + 1, '"') == t + n - 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *input = fuzz_strndup(data, size);
	char *nl = memchr(input, '\n', size);
	const char *header = input;
	const char *etag = "\"p42\"";
	if (nl) {
		*nl = '\0';
		etag = nl + 1;
	}
	bool match = craft_etag_list_matches(header, etag);
	if (!well_formed(etag)) { /* only robustness (ASan, UBSan) for other tags */
		free(input);
		return 0;
	}
	/* the same tag, weak: W/ added, or dropped when it was there */
	char *weak = malloc(strlen(etag) + 3);
	if (!weak)
		abort();
	if (etag == opaque(etag)) {
		memcpy(weak, "W/", 2);
		memcpy(weak + 2, etag, strlen(etag) + 1);
	} else {
		memcpy(weak, etag + 2, strlen(etag + 2) + 1);
	}
	fuzz_require(match == craft_etag_list_matches(header, weak), "W/ on our tag is ignored");
	if (match) {
		char *want = fuzz_strndup((const uint8_t *)opaque(etag), strlen(opaque(etag)));
		bool star = strchr(header, '*') != NULL;
		fuzz_require(star || strstr(header, want) != NULL, "a match names our tag or is *");
		free(want);
	}
	fuzz_require(craft_etag_list_matches(etag, etag), "a well-formed tag matches itself");
	fuzz_require(craft_etag_list_matches("*", "\"x\""), "* matches");
	free(weak);
	free(input);
	return 0;
}
