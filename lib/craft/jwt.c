#include "jwt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>
#include <openssl/rsa.h>

#include "base64url.h"
#include "common.h"
#include "jwt_internal.h"

#define LEEWAY_MAX_S 600

/* ---- signing --------------------------------------------------------------- */

/* Start an RS256 (PKCS#1 v1.5, SHA-256) sign or verify operation. */
static EVP_MD_CTX *rs256_begin(EVP_PKEY *pkey, bool sign)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	EVP_PKEY_CTX *pctx = NULL;
	int ok;

	if (!md)
		craft_oom(0);
	ok = sign ? EVP_DigestSignInit_ex(md, &pctx, "SHA256", NULL, NULL, pkey, NULL)
		  : EVP_DigestVerifyInit_ex(md, &pctx, "SHA256", NULL, NULL, pkey, NULL);
	if (ok != 1 || EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) != 1) {
		EVP_MD_CTX_free(md);
		return NULL;
	}
	return md;
}

int craft_jws_sign_input(const craft_jwt_key *key, const char *signing_input, size_t len,
			 char **b64sig)
{
	unsigned char sig[CRAFT_JWT_SIG_MAX_BYTES];
	size_t sig_len = sizeof(sig);
	EVP_MD_CTX *md;
	int ok;

	if (!key->has_private)
		return CRAFT_EINVAL;
	md = rs256_begin(key->pkey, true);
	ok =
	    md && EVP_DigestSign(md, sig, &sig_len, (const unsigned char *)signing_input, len) == 1;
	EVP_MD_CTX_free(md);
	if (!ok)
		return craft_jwt_internal_clear_fail(CRAFT_EINTERNAL);
	*b64sig = craft_base64url_encode_alloc(sig, sig_len);
	return CRAFT_OK;
}

int craft_jws_verify_input(const craft_jwt_key *key, const char *signing_input, size_t len,
			   const unsigned char *sig, size_t sig_len)
{
	EVP_MD_CTX *md;
	int ok;

	if (sig_len != (size_t)EVP_PKEY_get_size(key->pkey))
		return CRAFT_JWT_ESIG;
	md = rs256_begin(key->pkey, false);
	ok = md &&
	     EVP_DigestVerify(md, sig, sig_len, (const unsigned char *)signing_input, len) == 1;
	EVP_MD_CTX_free(md);
	return ok ? CRAFT_OK : craft_jwt_internal_clear_fail(CRAFT_JWT_ESIG);
}

/* base64url of the compact JSON text of `value`; NULL when it cannot be
 * serialised. */
static char *json_b64(const json_t *value)
{
	char *text = json_dumps(value, JSON_COMPACT);
	char *b64;

	if (!text)
		return NULL;
	b64 = craft_base64url_encode_alloc(text, strlen(text));
	free(text);
	return b64;
}

int craft_jwt_sign(const craft_jwt_key *key, json_t *claims, char **out)
{
	json_t *header = NULL;
	char *h64 = NULL, *p64 = NULL, *sig = NULL, *input = NULL;
	size_t in_len, total;
	int rc = CRAFT_EINVAL;

	if (!json_is_object(claims) || !key->has_private)
		return CRAFT_EINVAL;
	header = json_pack("{s:s, s:s, s:s}", "alg", "RS256", "typ", "JWT", "kid", key->kid);
	if (!header)
		craft_oom(0);
	h64 = json_b64(header);
	p64 = json_b64(claims);
	if (!h64 || !p64) {
		rc = CRAFT_EINTERNAL;
		goto out;
	}
	in_len = strlen(h64) + 1 + strlen(p64);
	input = craft_xmalloc(in_len + 1);
	snprintf(input, in_len + 1, "%s.%s", h64, p64);
	rc = craft_jws_sign_input(key, input, in_len, &sig);
	if (rc != CRAFT_OK)
		goto out;
	/* NOLINTNEXTLINE(clang-analyzer-core.NonNullParamChecker): set on CRAFT_OK */
	total = in_len + 1 + strlen(sig);
	if (total > CRAFT_JWT_MAX_LEN) {
		rc = CRAFT_ETOOBIG;
		goto out;
	}
	*out = craft_xmalloc(total + 1);
	snprintf(*out, total + 1, "%s.%s", input, sig);
out:
	json_decref(header);
	free(h64);
	free(p64);
	free(input);
	free(sig);
	return rc;
}

/* ---- verification ---------------------------------------------------------- */

/* The three segments of a compact token. */
struct jws_parts {
	const char *seg[3];
	size_t len[3];
	size_t input_len; /* header "." payload */
};

static int split_token(const char *token, size_t len, struct jws_parts *p)
{
	const char *end = token + len, *at = token;

	for (int i = 0; i < 3; i++) {
		const char *dot = memchr(at, '.', (size_t)(end - at));
		if ((i < 2) != (dot != NULL))
			return CRAFT_EINVAL;
		p->seg[i] = at;
		p->len[i] = (size_t)((dot ? dot : end) - at);
		at = dot ? dot + 1 : end;
	}
	if (p->len[0] == 0 || p->len[1] == 0)
		return CRAFT_EINVAL;
	p->input_len = p->len[0] + 1 + p->len[1];
	return CRAFT_OK;
}

/* Decode a base64url segment holding a JSON object (no duplicate members). */
static int segment_object(const char *seg, size_t len, json_t **out)
{
	size_t cap = craft_base64url_decoded_len(len), n = 0;
	char *buf = craft_xmalloc(cap);
	json_t *value = NULL;

	if (craft_base64url_decode(seg, len, buf, cap, &n) == CRAFT_OK)
		value = json_loadb(buf, n, JSON_REJECT_DUPLICATES, NULL);
	free(buf);
	if (!json_is_object(value)) {
		json_decref(value);
		return CRAFT_EINVAL;
	}
	*out = value;
	return CRAFT_OK;
}

static int check_header(const json_t *hdr, const char **kid, const char **why)
{
	const json_t *alg = json_object_get(hdr, "alg");
	const json_t *typ = json_object_get(hdr, "typ");
	const json_t *kid_v = json_object_get(hdr, "kid");

	if (!json_is_string(alg) || strcmp(json_string_value(alg), "RS256") != 0) {
		*why = "algorithm not allowed";
		return CRAFT_JWT_EALG;
	}
	if (typ && (!json_is_string(typ) || strcasecmp(json_string_value(typ), "JWT") != 0)) {
		*why = "unsupported token type";
		return CRAFT_EINVAL;
	}
	if (json_object_get(hdr, "crit")) {
		*why = "critical header not supported";
		return CRAFT_EINVAL;
	}
	if (kid_v &&
	    (!json_is_string(kid_v) || !craft_jwt_internal_kid_valid(json_string_value(kid_v)))) {
		*why = "malformed key id";
		return CRAFT_EINVAL;
	}
	*kid = kid_v ? json_string_value(kid_v) : NULL;
	return CRAFT_OK;
}

static int select_key(const craft_jwks *keys, const char *kid, bool require_kid,
		      const craft_jwt_key **out, const char **why)
{
	if (kid) {
		*out = craft_jwks_find(keys, kid);
		*why = "unknown key id";
		return *out ? CRAFT_OK : CRAFT_ENOTFOUND;
	}
	if (require_kid) {
		*why = "missing key id";
		return CRAFT_EINVAL;
	}
	*why = "missing key id";
	*out = keys->count == 1 ? keys->keys[0] : NULL;
	return *out ? CRAFT_OK : CRAFT_ENOTFOUND;
}

static int check_signature(const craft_jwt_key *key, const struct jws_parts *p, const char **why)
{
	unsigned char sig[CRAFT_JWT_SIG_MAX_BYTES];
	size_t sig_len = 0;

	*why = "bad signature";
	if (p->len[2] == 0 || p->len[2] > craft_base64url_encoded_len(sizeof(sig)))
		return CRAFT_JWT_ESIG;
	if (craft_base64url_decode(p->seg[2], p->len[2], sig, sizeof(sig), &sig_len) != CRAFT_OK) {
		*why = "malformed signature";
		return CRAFT_EINVAL;
	}
	return craft_jws_verify_input(key, p->seg[0], p->input_len, sig, sig_len);
}

/* Parse, check the header and the signature; on success *key is the key
 * that verified the token. */
static int verify_signed(const craft_jwks *keys, const char *token, size_t len, bool require_kid,
			 struct jws_parts *p, const craft_jwt_key **key, const char **why)
{
	json_t *hdr = NULL;
	const char *kid = NULL;
	int rc;

	*why = "malformed token";
	if (split_token(token, len, p) != CRAFT_OK)
		return CRAFT_EINVAL;
	if (segment_object(p->seg[0], p->len[0], &hdr) != CRAFT_OK) {
		*why = "malformed header";
		return CRAFT_EINVAL;
	}
	rc = check_header(hdr, &kid, why);
	if (rc == CRAFT_OK)
		rc = select_key(keys, kid, require_kid, key, why);
	json_decref(hdr);
	if (rc == CRAFT_OK)
		rc = check_signature(*key, p, why);
	return rc;
}

/* A NumericDate: an integer, or a real truncated to whole seconds. */
static int numeric_date(const json_t *v, long long *out)
{
	if (json_is_integer(v)) {
		*out = json_integer_value(v);
		return CRAFT_OK;
	}
	if (json_is_real(v) && json_real_value(v) > -1e15 && json_real_value(v) < 1e15) {
		*out = (long long)json_real_value(v);
		return CRAFT_OK;
	}
	return CRAFT_EINVAL;
}

static int check_times(const json_t *payload, long long now, long long leeway,
		       struct craft_jwt_claims *out, const char **why)
{
	const json_t *nbf = json_object_get(payload, "nbf");
	const json_t *iat = json_object_get(payload, "iat");
	long long t;

	*why = "invalid exp claim";
	if (numeric_date(json_object_get(payload, "exp"), &out->exp) != CRAFT_OK)
		return CRAFT_JWT_ECLAIMS;
	*why = "token expired";
	if (!(now - leeway < out->exp))
		return CRAFT_JWT_EEXPIRED;
	if (nbf) {
		*why = "invalid nbf claim";
		if (numeric_date(nbf, &t) != CRAFT_OK)
			return CRAFT_JWT_ECLAIMS;
		*why = "token not yet valid";
		if (now + leeway < t)
			return CRAFT_JWT_ENOTYET;
	}
	if (iat) {
		*why = "invalid iat claim";
		if (numeric_date(iat, &out->iat) != CRAFT_OK)
			return CRAFT_JWT_ECLAIMS;
		*why = "token issued in the future";
		if (out->iat > now + leeway)
			return CRAFT_JWT_ENOTYET;
	}
	return CRAFT_OK;
}

static bool string_equals(const json_t *v, const char *s)
{
	return json_is_string(v) && json_string_length(v) == strlen(s) &&
	       memcmp(json_string_value(v), s, strlen(s)) == 0;
}

static bool audience_ok(const json_t *aud, const char *audience)
{
	const json_t *item;
	size_t i;

	if (json_is_array(aud)) {
		json_array_foreach (aud, i, item) {
			if (string_equals(item, audience))
				return true;
		}
		return false;
	}
	return string_equals(aud, audience);
}

static int check_claims(const json_t *payload, const struct craft_jwt_verify_opts *o, long long now,
			struct craft_jwt_claims *out, const char **why)
{
	const json_t *sub = json_object_get(payload, "sub");
	const json_t *role = json_object_get(payload, "role");
	int rc = check_times(payload, now, o->leeway_s, out, why);

	if (rc != CRAFT_OK)
		return rc;
	*why = "wrong issuer";
	if (o->issuer && *o->issuer && !string_equals(json_object_get(payload, "iss"), o->issuer))
		return CRAFT_JWT_EISSUER;
	*why = "wrong audience";
	if (o->audience && *o->audience &&
	    !audience_ok(json_object_get(payload, "aud"), o->audience))
		return CRAFT_JWT_EAUDIENCE;
	*why = "missing sub claim";
	if (!json_is_string(sub) || json_string_length(sub) == 0)
		return CRAFT_JWT_ECLAIMS;
	*why = "invalid role claim";
	if (role && !json_is_string(role))
		return CRAFT_JWT_ECLAIMS;
	out->sub = json_string_value(sub);
	out->role = role ? json_string_value(role) : NULL;
	return CRAFT_OK;
}

int craft_jwt_verify(const craft_jwks *keys, const char *token, size_t len,
		     const struct craft_jwt_verify_opts *opts, struct craft_jwt_claims *out,
		     const char **reason)
{
	struct craft_jwt_verify_opts o = {0};
	const craft_jwt_key *key = NULL;
	const char *why = "malformed token";
	struct jws_parts parts;
	json_t *payload = NULL;
	int rc;

	memset(out, 0, sizeof(*out));
	if (opts)
		o = *opts;
	o.leeway_s = o.leeway_s < 0 ? 0 : o.leeway_s > LEEWAY_MAX_S ? LEEWAY_MAX_S : o.leeway_s;
	if (!token || len > CRAFT_JWT_MAX_LEN) {
		why = token ? "token too large" : why;
		rc = token ? CRAFT_ETOOBIG : CRAFT_EINVAL;
		goto out;
	}
	rc = verify_signed(keys, token, len, o.require_kid, &parts, &key, &why);
	if (rc != CRAFT_OK)
		goto out;
	if (segment_object(parts.seg[1], parts.len[1], &payload) != CRAFT_OK) {
		why = "malformed payload";
		rc = CRAFT_EINVAL;
		goto out;
	}
	rc = check_claims(payload, &o, o.now ? (long long)o.now : (long long)time(NULL), out, &why);
	if (rc != CRAFT_OK)
		goto out;
	out->payload = payload;
	payload = NULL;
	memcpy(out->kid, key->kid, strlen(key->kid) + 1);
	why = "valid";
out:
	json_decref(payload);
	if (rc != CRAFT_OK)
		memset(out, 0, sizeof(*out));
	if (reason)
		*reason = why;
	return rc;
}

void craft_jwt_claims_cleanup(struct craft_jwt_claims *c)
{
	json_decref(c->payload);
	memset(c, 0, sizeof(*c));
}
