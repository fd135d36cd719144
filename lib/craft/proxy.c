#include "proxy.h"

#include "common.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const unsigned char v4_mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

static bool is_v4(const unsigned char a[16])
{
	return memcmp(a, v4_mapped, sizeof(v4_mapped)) == 0;
}

int craft_addr_parse(const char *text, unsigned char out[16])
{
	struct in_addr v4;
	if (inet_pton(AF_INET, text, &v4) == 1) {
		memcpy(out, v4_mapped, sizeof(v4_mapped));
		memcpy(out + 12, &v4, 4);
		return CRAFT_OK;
	}
	struct in6_addr v6;
	if (inet_pton(AF_INET6, text, &v6) == 1) {
		memcpy(out, &v6, 16);
		return CRAFT_OK;
	}
	return CRAFT_EINVAL;
}

void craft_addr_format(const unsigned char addr[16], char out[CRAFT_ADDR_TEXT_MAX])
{
	if (is_v4(addr))
		inet_ntop(AF_INET, addr + 12, out, CRAFT_ADDR_TEXT_MAX);
	else
		inet_ntop(AF_INET6, addr, out, CRAFT_ADDR_TEXT_MAX);
}

static bool net_contains(const struct craft_net *n, const unsigned char a[16])
{
	unsigned full = n->prefix / 8, rest = n->prefix % 8;
	if (memcmp(n->addr, a, full) != 0)
		return false;
	if (rest == 0)
		return true;
	unsigned char mask = (unsigned char)(0xffu << (8 - rest));
	return (n->addr[full] & mask) == (a[full] & mask);
}

bool craft_proxy_list_contains(const struct craft_proxy_list *list, const unsigned char addr[16])
{
	for (size_t i = 0; i < list->count; i++)
		if (net_contains(&list->nets[i], addr))
			return true;
	return false;
}

/* One entry "addr" or "addr/prefix", already trimmed. */
static int parse_net(const char *entry, struct craft_net *out)
{
	char text[64];
	if (strlen(entry) >= sizeof(text))
		return CRAFT_EINVAL;
	snprintf(text, sizeof(text), "%s", entry);
	char *slash = strchr(text, '/');
	if (slash)
		*slash = '\0';
	if (craft_addr_parse(text, out->addr) != CRAFT_OK)
		return CRAFT_EINVAL;
	unsigned max = is_v4(out->addr) ? 32 : 128;
	unsigned prefix = max;
	if (slash) {
		const char *p = slash + 1;
		char *end = NULL;
		if (*p < '0' || *p > '9' || strlen(p) > 3)
			return CRAFT_EINVAL;
		unsigned long v = strtoul(p, &end, 10);
		if (*end != '\0' || v > max)
			return CRAFT_EINVAL;
		prefix = (unsigned)v;
	}
	out->prefix = prefix + (128 - max);
	/* host bits beyond the prefix are a typo, not a network */
	for (unsigned bit = 0; bit < 128; bit++) {
		unsigned char m = (unsigned char)(0x80u >> (bit % 8));
		if (bit >= out->prefix && (out->addr[bit / 8] & m))
			return CRAFT_EINVAL;
	}
	return CRAFT_OK;
}

/* The next comma-separated entry of *p, trimmed into buf; false at the end. */
static bool next_entry(const char **p, char *buf, size_t buf_len, bool *too_long)
{
	const char *s = *p;
	if (!*s)
		return false;
	const char *comma = strchr(s, ',');
	size_t n = comma ? (size_t)(comma - s) : strlen(s);
	*p = comma ? comma + 1 : s + n;
	while (n > 0 && (*s == ' ' || *s == '\t'))
		s++, n--;
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	*too_long = n >= buf_len;
	if (*too_long)
		n = buf_len - 1;
	memcpy(buf, s, n);
	buf[n] = '\0';
	return true;
}

int craft_proxy_list_parse(const char *text, struct craft_proxy_list *out, char *err,
			   size_t err_len)
{
	out->count = 0;
	const char *p = text ? text : "";
	char entry[64];
	bool too_long = false;
	while (next_entry(&p, entry, sizeof(entry), &too_long)) {
		if (!entry[0] && !too_long)
			continue; /* tolerate ", ," and a trailing comma */
		if (out->count == CRAFT_PROXY_MAX_NETS) {
			snprintf(err, err_len, "more than %d networks", CRAFT_PROXY_MAX_NETS);
			goto bad;
		}
		if (too_long || parse_net(entry, &out->nets[out->count]) != CRAFT_OK) {
			snprintf(err, err_len, "'%.60s' is not an address or network (CIDR)",
				 entry);
			goto bad;
		}
		out->count++;
	}
	return CRAFT_OK;
bad:
	out->count = 0;
	return CRAFT_EINVAL;
}

/* Walk X-Forwarded-For from the right; see the header for the rules. */
static void client_from_xff(const struct craft_proxy_list *list, const char *xff,
			    unsigned char hop[16])
{
	size_t n = strlen(xff);
	while (n > 0) {
		size_t end = n;
		while (n > 0 && xff[n - 1] != ',')
			n--;
		const char *s = xff + n;
		size_t len = end - n;
		if (n > 0)
			n--; /* past the comma */
		while (len > 0 && (*s == ' ' || *s == '\t'))
			s++, len--;
		while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t'))
			len--;
		char text[CRAFT_ADDR_TEXT_MAX];
		unsigned char a[16];
		if (len == 0 || len >= sizeof(text))
			return;
		memcpy(text, s, len);
		text[len] = '\0';
		if (craft_addr_parse(text, a) != CRAFT_OK)
			return;
		memcpy(hop, a, 16);
		if (!craft_proxy_list_contains(list, a))
			return;
	}
}

int craft_proxy_client(const struct craft_proxy_list *list, const char *peer, const char *xff,
		       char out[CRAFT_ADDR_TEXT_MAX])
{
	unsigned char a[16];
	if (!peer || craft_addr_parse(peer, a) != CRAFT_OK) {
		snprintf(out, CRAFT_ADDR_TEXT_MAX, "%s", peer ? peer : "unknown");
		return CRAFT_EINVAL;
	}
	if (xff && craft_proxy_list_contains(list, a))
		client_from_xff(list, xff, a);
	craft_addr_format(a, out);
	return CRAFT_OK;
}
