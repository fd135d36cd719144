#include "validate.h"

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

/* Code points in valid UTF-8 (jansson guarantees valid UTF-8 input). */
static size_t utf8_chars(const char *s)
{
	size_t n = 0;
	for (; *s; s++)
		if (((unsigned char)*s & 0xC0) != 0x80)
			n++;
	return n;
}

static bool has_control(const char *s, bool allow_newlines)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if ((c < 0x20 && !(allow_newlines && (c == '\n' || c == '\r' || c == '\t'))) ||
		    c == 0x7F)
			return true;
	}
	return false;
}

const char *product_check_name(const char *name)
{
	size_t n = utf8_chars(name);
	bool blank = strspn(name, " \t") == strlen(name);
	if (n < 1 || n > PRODUCT_NAME_MAX || blank || has_control(name, false))
		return "name must be 1-255 characters (not blank, no control characters)";
	return NULL;
}

const char *product_check_description(const char *description)
{
	if (utf8_chars(description) > PRODUCT_DESCRIPTION_MAX || has_control(description, true))
		return "description must be at most 10000 characters";
	return NULL;
}

const char *product_check_image_url(const char *url)
{
	static const char msg[] = "image_url must be a path under /static/ or an https:// URL";
	size_t n = strlen(url);
	if (n > PRODUCT_IMAGE_URL_MAX || has_control(url, false) || strpbrk(url, " \\\"'<>`"))
		return msg;
	if (strncmp(url, "/static/", 8) == 0) {
		if (n == 8 || strstr(url, "/../") || strstr(url, "/./") ||
		    (n >= 3 && strcmp(url + n - 3, "/..") == 0) || strstr(url, "//") ||
		    strstr(url, "%2e") || strstr(url, "%2E") || strstr(url, "%2f") ||
		    strstr(url, "%2F"))
			return msg;
		return NULL;
	}
	if (strncmp(url, "https://", 8) == 0) {
		const char *host = url + 8;
		size_t hlen = strcspn(host, "/?#");
		if (hlen == 0 || memchr(host, '@', hlen))
			return msg;
		return NULL;
	}
	return msg;
}
