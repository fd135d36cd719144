#include "entry.h"

#include "craft/common.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>

int product_entry_item(const char *s, size_t len, long long *version, const char **payload,
		       size_t *payload_len)
{
	long long v = 0;
	size_t i = 0;
	for (; i < len && s[i] >= '0' && s[i] <= '9'; i++) {
		if (v > (LLONG_MAX - 9) / 10)
			return CRAFT_EINVAL;
		v = v * 10 + (s[i] - '0');
	}
	if (i == 0 || i >= len || s[i] != '|')
		return CRAFT_EINVAL;
	*version = v;
	*payload = s + i + 1;
	*payload_len = len - i - 1;
	return CRAFT_OK;
}

int product_entry_list(const char *s, size_t len, struct product_list_entry *out)
{
	const char *bar = memchr(s, '|', len);
	if (!bar || bar == s || (size_t)(bar - s) >= PRODUCT_TOKEN_MAX)
		return CRAFT_EINVAL;
	out->gen = s;
	out->gen_len = (size_t)(bar - s);
	out->valid = false;
	out->etag = out->json = NULL;
	out->etag_len = out->json_len = 0;
	const char *rest = bar + 1;
	size_t rest_len = len - out->gen_len - 1;
	if (rest_len == 0)
		return CRAFT_OK;
	const char *bar2 = memchr(rest, '|', rest_len);
	if (!bar2 || bar2 == rest || (size_t)(bar2 - rest) >= PRODUCT_ETAG_MAX)
		return CRAFT_EINVAL;
	out->valid = true;
	out->etag = rest;
	out->etag_len = (size_t)(bar2 - rest);
	out->json = bar2 + 1;
	out->json_len = rest_len - out->etag_len - 1;
	return CRAFT_OK;
}

void product_etag_item(char out[PRODUCT_ETAG_MAX], long long version)
{
	snprintf(out, PRODUCT_ETAG_MAX, "\"p%lld\"", version);
}

static void put_u64(unsigned char *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

void product_etag_list(char out[PRODUCT_ETAG_MAX], const struct product *items, size_t count)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	if (!ctx || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1)
		craft_oom(0);
	unsigned char pair[16];
	for (size_t i = 0; i < count; i++) {
		put_u64(pair, (uint64_t)items[i].id);
		put_u64(pair + 8, (uint64_t)items[i].version);
		EVP_DigestUpdate(ctx, pair, sizeof(pair));
	}
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned mdlen = 0;
	EVP_DigestFinal_ex(ctx, md, &mdlen);
	EVP_MD_CTX_free(ctx);
	out[0] = '"';
	out[1] = 'l';
	craft_hex_encode(md, 16, out + 2);
	out[34] = '"';
	out[35] = '\0';
}

void product_token_format(char out[PRODUCT_TOKEN_MAX], const char *prefix, unsigned long long seq)
{
	snprintf(out, PRODUCT_TOKEN_MAX, "%s.%llu", prefix, seq);
}

size_t product_key(char *out, size_t out_len, const char *prefix, long id)
{
	char digits[24];
	size_t n = 0;
	unsigned long v = id < 0 ? 0UL - (unsigned long)id : (unsigned long)id;
	do {
		digits[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	if (id < 0)
		digits[n++] = '-';
	size_t plen = strlen(prefix);
	if (plen + n + 1 > out_len)
		return 0;
	memcpy(out, prefix, plen);
	for (size_t i = 0; i < n; i++)
		out[plen + i] = digits[n - 1 - i];
	out[plen + n] = '\0';
	return plen + n;
}
