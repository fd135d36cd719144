/* Unit tests for lib/craft/jwt.c and jwk.c: RS256 signing and verification, keys, JWK sets. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <dirent.h>
#include <pthread.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/encoder.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rsa.h>

#include "craft/base64url.h"
#include "craft/common.h"
#include "craft/jwt.h"

#define NOW 1700000000LL

/* ---- RFC 7515 Appendix A.2: RS256 example ---------------------------------- */

/* The RSA key of RFC 7515 A.2 as a JWK (RFC values split for line length). */
static const char rfc_jwk[] = "{\"kty\":\"RSA\","
			      "\"n\":\"ofgWCuLjybRlzo0tZWJjNiuSfb4p4fAkd_wWJcyQoTbji9k0l8W26mPddx"
			      "HmfHQp-Vaw-4qPCJrcS2mJPMEzP1Pt0Bm4d4QlL-yRT-SFd2lZS-pCgNMs"
			      "D1W_YpRPEwOWvG6b32690r2jZ47soMZo9wGzjb_7OMg0LOL-bSf63kpaSH"
			      "SXndS5z5rexMdbBYUsLA9e-KXBdQOS-UTo7WTBEMa2R2CapHg665xsmtdV"
			      "MTBQY4uDZlxvb3qCo5ZwKh9kG4LT6_I5IhlJH7aGhyxXFvUK-DWNmoudF8"
			      "NAco9_h9iaGNj8q2ethFkMLs91kzk2PAcDTW9gb54h4FRWyuXpoQ\","
			      "\"e\":\"AQAB\","
			      "\"d\":\"Eq5xpGnNCivDflJsRQBXHx1hdR1k6Ulwe2JZD50LpXyWPEAeP88vLNO97I"
			      "jlA7_GQ5sLKMgvfTeXZx9SE-7YwVol2NXOoAJe46sui395IW_GO-pWJ1O0"
			      "BkTGoVEn2bKVRUCgu-GjBVaYLU6f3l9kJfFNS3E0QbVdxzubSu3Mkqzjkn"
			      "439X0M_V51gfpRLI9JYanrC4D4qAdGcopV_0ZHHzQlBjudU2QvXt4ehNYT"
			      "CBr6XCLQUShb1juUO1ZdiYoFaFQT5Tw8bGUl_x_jTj3ccPDVZFD9pIuhLh"
			      "BOneufuBiB4cS98l2SR_RQyGWSeWjnczT0QU91p1DhOVRuOopznQ\","
			      "\"p\":\"4BzEEOtIpmVdVEZNCqS7baC4crd0pqnRH_5IB3jw3bcxGn6QLvnEtfdUdi"
			      "YrqBdss1l58BQ3KhooKeQTa9AB0Hw_Py5PJdTJNPY8cQn7ouZ2KKDcmnPG"
			      "BY5t7yLc1QlQ5xHdwW1VhvKn-nXqhJTBgIPgtldC-KDV5z-y2XDwGUc\","
			      "\"q\":\"uQPEfgmVtjL0Uyyx88GZFF1fOunH3-7cepKmtH4pxhtCoHqpWmT8YAmZxa"
			      "ewHgHAjLYsp1ZSe7zFYHj7C6ul7TjeLQeZD_YwD66t62wDmpe_HlB-TnBA"
			      "-njbglfIsRLtXlnDzQkv5dTltRJ11BKBBypeeF6689rjcJIDEz9RWdc\","
			      "\"dp\":\"BwKfV3Akq5_MFZDFZCnW-wzl-CCo83WoZvnLQwCTeDv8uzluRSnm71I3Q"
			      "CLdhrqE2e9YkxvuxdBfpT_PI7Yz-FOKnu1R6HsJeDCjn12Sk3vmAktV2zb"
			      "34MCdy7cpdTh_YVr7tss2u6vneTwrA86rZtu5Mbr1C1XsmvkxHQAdYo0\","
			      "\"dq\":\"h_96-mK1R_7glhsum81dZxjTnYynPbZpHziZjeeHcXYsXaaMwkOlODsWa"
			      "7I9xXDoRwbKgB719rrmI2oKr6N3Do9U0ajaHF-NKJnwgjMd2w9cjz3_-ky"
			      "NlxAr2v4IKhGNpmM5iIgOS1VZnOZ68m6_pbLBSp3nssTdlqvd0tIiTHU\","
			      "\"qi\":\"IYd7DHOhrWvxkwPQsRM2tOgrjbcrfvtQJipd-DlcxyVuuM9sQLdgjVk2o"
			      "y26F0EmpScGLq2MowX7fhd_QJQ3ydy5cY7YIBi87w93IKLEdfnbJtoOPLU"
			      "W0ITrJReOgo1cq9SbsxYawBgfp_gh6A5603k2-ZQwVK0JKSHuLFkuQ3U\"}";

/* The JWS Protected Header and JWS Payload octets of A.2 (the payload keeps
 * the RFC's CR LF line breaks), and their encodings. */
static const char rfc_header[] = "{\"alg\":\"RS256\"}";
static const char rfc_payload[] = "{\"iss\":\"joe\",\r\n"
				  " \"exp\":1300819380,\r\n"
				  " \"http://example.com/is_root\":true}";
static const char rfc_header_b64[] = "eyJhbGciOiJSUzI1NiJ9";
static const char rfc_payload_b64[] =
    "eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFt"
    "cGxlLmNvbS9pc19yb290Ijp0cnVlfQ";
static const char rfc_signature[] =
    "cC4hiUPoj9Eetdgtv3hF80EGrhuB__dzERat0XF9g2VtQgr9PJbu3XOiZj5RZmh7"
    "AAuHIm4Bh-0Qc_lF5YKt_O8W2Fp5jujGbds9uJdbF9CUAr7t1dnZcAcQjbKBYNX4"
    "BAynRFdiuB--f_nZLgrnbyTyWzO75vRK5h6xBArLIARNPvkSjtQBMHlb1L07Qe7K"
    "0GarZRmB_eSN9383LcOLn6_dO--xi12jzDwusC-eOkHWEsqtFZESc6BfI7noOPqv"
    "hJ1phCnvWh6IeYI2w9QOYEUipUTI8np6LbgGY9Fs98rqVt5AXLIhWkWywlVmtVrB"
    "p0igcN_IoypGlUPQGe77Rw";

/* ---- fixture and helpers ----------------------------------------------------- */

struct fixture {
	craft_jwt_key *signer; /* private, kid "k-current" */
	craft_jwt_key *old;    /* private, kid "k-previous" */
	craft_jwks *set;       /* public halves of both, current first */
	char dir[64];          /* scratch directory */
};

static int group_setup(void **state)
{
	struct fixture *f = craft_xcalloc(1, sizeof(*f));
	craft_jwt_key *pub = NULL;

	if (craft_jwt_key_generate(2048, "k-current", &f->signer) != CRAFT_OK ||
	    craft_jwt_key_generate(2048, "k-previous", &f->old) != CRAFT_OK)
		return -1;
	f->set = craft_jwks_new();
	if (craft_jwt_key_dup_public(f->signer, &pub) != CRAFT_OK ||
	    craft_jwks_add(f->set, pub) != CRAFT_OK)
		return -1;
	if (craft_jwt_key_dup_public(f->old, &pub) != CRAFT_OK ||
	    craft_jwks_add(f->set, pub) != CRAFT_OK)
		return -1;
	snprintf(f->dir, sizeof(f->dir), "/tmp/craft-jwt-test.XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	*state = f;
	return 0;
}

static int group_teardown(void **state)
{
	struct fixture *f = *state;
	DIR *d = opendir(f->dir);
	struct dirent *e;
	char path[384];

	while (d && (e = readdir(d))) {
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
			snprintf(path, sizeof(path), "%s/%s", f->dir, e->d_name);
			unlink(path);
		}
	}
	if (d)
		closedir(d);
	rmdir(f->dir);
	craft_jwks_free(f->set);
	craft_jwt_key_free(f->signer);
	craft_jwt_key_free(f->old);
	free(f);
	return 0;
}

static char *b64_str(const char *s)
{
	return craft_base64url_encode_alloc(s, strlen(s));
}

/* "a.b" or, with c, "a.b.c" in a new string. */
static char *join(const char *a, const char *b, const char *c)
{
	size_t n = strlen(a) + strlen(b) + (c ? strlen(c) + 1 : 0) + 2;
	char *out = craft_xmalloc(n);

	if (c)
		snprintf(out, n, "%s.%s.%s", a, b, c);
	else
		snprintf(out, n, "%s.%s", a, b);
	return out;
}

/* A token of already encoded header and payload segments, signed with `key`
 * over exactly those bytes. */
static char *sign_segments(const craft_jwt_key *key, const char *h64, const char *p64)
{
	char *input = join(h64, p64, NULL), *sig = NULL, *token;

	assert_int_equal(craft_jws_sign_input(key, input, strlen(input), &sig), CRAFT_OK);
	token = join(h64, p64, sig);
	free(input);
	free(sig);
	return token;
}

/* A token of exactly these header and payload texts, signed with `key`. */
static char *make_token(const craft_jwt_key *key, const char *header, const char *payload)
{
	char *h = b64_str(header), *p = b64_str(payload);
	char *token = sign_segments(key, h, p);

	free(h);
	free(p);
	return token;
}

/* The standard header for `key`, into buf. */
static const char *std_header(const craft_jwt_key *key, char *buf, size_t size)
{
	snprintf(buf, size, "{\"alg\":\"RS256\",\"typ\":\"JWT\",\"kid\":\"%s\"}",
		 craft_jwt_key_kid(key));
	return buf;
}

/* A good payload for user alice with exp NOW+3600 and `extra` members
 * (",\"k\":v..." or ""). */
static const char *std_payload(const char *extra, char *buf, size_t size)
{
	snprintf(buf, size,
		 "{\"sub\":\"alice\",\"role\":\"user\",\"iat\":%lld,\"exp\":%lld,"
		 "\"iss\":\"https://auth.test\"%s}",
		 NOW, NOW + 3600, extra);
	return buf;
}

static struct craft_jwt_verify_opts opts_now(long long now)
{
	return (struct craft_jwt_verify_opts){.now = (time_t)now};
}

/* Verify against `set` and check the result code (and reason when given). */
static void expect_set(const craft_jwks *set, const char *token,
		       const struct craft_jwt_verify_opts *o, int want, const char *want_reason)
{
	struct craft_jwt_claims c;
	const char *why = NULL;
	int rc = craft_jwt_verify(set, token, strlen(token), o, &c, &why);

	if (rc != want)
		fail_msg("verify gave %d (%s), expected %d", rc, why ? why : "?", want);
	assert_non_null(why);
	assert_null(strstr(why, "eyJ"));
	if (want_reason)
		assert_string_equal(why, want_reason);
	if (rc == CRAFT_OK) {
		assert_non_null(c.payload);
		craft_jwt_claims_cleanup(&c);
	} else {
		assert_null(c.payload);
		assert_null(c.sub);
	}
}

static void expect(const struct fixture *f, const char *token,
		   const struct craft_jwt_verify_opts *o, int want, const char *want_reason)
{
	expect_set(f->set, token, o, want, want_reason);
}

/* Sign header + payload texts with the fixture's signer and check the result. */
static void expect_signed(const struct fixture *f, const char *header, const char *payload,
			  const struct craft_jwt_verify_opts *o, int want, const char *reason)
{
	char *token = make_token(f->signer, header, payload);

	expect(f, token, o, want, reason);
	free(token);
}

static json_t *parse(const char *text)
{
	json_t *v = json_loads(text, JSON_REJECT_DUPLICATES, NULL);

	assert_non_null(v);
	return v;
}

/* ---- RFC 7515 A.2 ------------------------------------------------------------ */

static void test_rfc7515_a2_sign(void **state)
{
	json_t *jwk = parse(rfc_jwk);
	craft_jwt_key *key = NULL;
	char err[128] = "", *h, *p, *input, *sig = NULL;
	unsigned char raw[256];
	size_t raw_len = 0;

	(void)state;
	assert_int_equal(craft_jwt_key_from_jwk(jwk, &key, err, sizeof(err)), CRAFT_OK);
	assert_int_equal(craft_jwt_key_bits(key), 2048);
	assert_true(craft_jwt_key_has_private(key));
	h = b64_str(rfc_header);
	p = b64_str(rfc_payload);
	assert_string_equal(h, rfc_header_b64);
	assert_string_equal(p, rfc_payload_b64);
	input = join(h, p, NULL);
	assert_int_equal(craft_jws_sign_input(key, input, strlen(input), &sig), CRAFT_OK);
	assert_string_equal(sig, rfc_signature);

	assert_int_equal(craft_base64url_decode(rfc_signature, strlen(rfc_signature), raw,
						sizeof(raw), &raw_len),
			 CRAFT_OK);
	assert_int_equal(raw_len, 256);
	assert_int_equal(craft_jws_verify_input(key, input, strlen(input), raw, raw_len), CRAFT_OK);
	raw[100] ^= 1;
	assert_int_equal(craft_jws_verify_input(key, input, strlen(input), raw, raw_len),
			 CRAFT_JWT_ESIG);
	raw[100] ^= 1;
	assert_int_equal(craft_jws_verify_input(key, input, strlen(input) - 1, raw, raw_len),
			 CRAFT_JWT_ESIG);
	assert_int_equal(craft_jws_verify_input(key, input, strlen(input), raw, raw_len - 1),
			 CRAFT_JWT_ESIG);
	free(h);
	free(p);
	free(input);
	free(sig);
	craft_jwt_key_free(key);
	json_decref(jwk);
}

/* The full A.2 token through craft_jwt_verify with the RFC public key in a JWK
 * set: the signature passes, then the claims rules decide. */
static void test_rfc7515_a2_verify(void **state)
{
	json_t *jwk = parse(rfc_jwk), *doc;
	craft_jwks *set = NULL;
	char err[128] = "", *text, *token;
	struct craft_jwt_verify_opts o = opts_now(1300819000);

	(void)state;
	/* publish only the public members, as a JWK set would */
	doc = json_pack("{s:[{s:s, s:s, s:O, s:O}]}", "keys", "kty", "RSA", "kid", "2010-12-29",
			"n", json_object_get(jwk, "n"), "e", json_object_get(jwk, "e"));
	text = json_dumps(doc, JSON_COMPACT);
	assert_int_equal(craft_jwks_from_json(text, strlen(text), &set, err, sizeof(err)),
			 CRAFT_OK);
	assert_false(craft_jwt_key_has_private(craft_jwks_key_at(set, 0)));
	token = craft_xmalloc(1024);
	snprintf(token, 1024, "%s.%s.%s", rfc_header_b64, rfc_payload_b64, rfc_signature);

	/* no kid in the header: the set's only key is used; the RFC payload has no sub */
	expect_set(set, token, &o, CRAFT_JWT_ECLAIMS, "missing sub claim");
	o.now = 1300819380;
	expect_set(set, token, &o, CRAFT_JWT_EEXPIRED, "token expired");
	o.now = 1300819000;
	o.require_kid = true;
	expect_set(set, token, &o, CRAFT_EINVAL, "missing key id");
	o.require_kid = false;
	token[strlen(token) - 3] = token[strlen(token) - 3] == 'A' ? 'B' : 'A';
	expect_set(set, token, &o, CRAFT_JWT_ESIG, "bad signature");

	free(token);
	free(text);
	json_decref(doc);
	json_decref(jwk);
	craft_jwks_free(set);
}

static void test_jwk_private_inconsistent(void **state)
{
	json_t *jwk = parse(rfc_jwk);
	craft_jwt_key *key = NULL;
	char err[128] = "";
	char *qi = craft_xstrdup(json_string_value(json_object_get(jwk, "qi")));

	(void)state;
	qi[10] = qi[10] == 'A' ? 'B' : 'A';
	json_object_set_new(jwk, "qi", json_string(qi));
	assert_int_equal(craft_jwt_key_from_jwk(jwk, &key, err, sizeof(err)), CRAFT_EINVAL);
	assert_null(key);
	assert_true(strlen(err) > 0);
	/* dropping a CRT member is refused too */
	json_decref(jwk);
	jwk = parse(rfc_jwk);
	json_object_del(jwk, "dq");
	assert_int_equal(craft_jwt_key_from_jwk(jwk, &key, err, sizeof(err)), CRAFT_EINVAL);
	free(qi);
	json_decref(jwk);
}

/* ---- signing and the round trip ------------------------------------------------ */

static void test_sign_verify_round_trip(void **state)
{
	struct fixture *f = *state;
	json_t *claims = json_pack("{s:s, s:s, s:I, s:I, s:s, s:s, s:s}", "sub", "alice", "role",
				   "admin", "iat", (json_int_t)NOW, "exp", (json_int_t)(NOW + 3600),
				   "iss", "https://auth.test", "jti", "id-1", "aud", "craftista");
	struct craft_jwt_verify_opts o = {
	    .issuer = "https://auth.test", .audience = "craftista", .leeway_s = 30, .now = NOW};
	struct craft_jwt_claims c;
	const char *why = NULL;
	char *token = NULL, hdr[256], expect_hdr[256];
	size_t hdr_len = 0;

	assert_int_equal(craft_jwt_sign(f->signer, claims, &token), CRAFT_OK);
	assert_int_equal(json_object_size(claims), 7); /* borrowed, untouched */

	/* the header is exactly these bytes, members in this order */
	assert_int_equal(craft_base64url_decode(token, (size_t)(strchr(token, '.') - token), hdr,
						sizeof(hdr) - 1, &hdr_len),
			 CRAFT_OK);
	hdr[hdr_len] = '\0';
	snprintf(expect_hdr, sizeof(expect_hdr),
		 "{\"alg\":\"RS256\",\"typ\":\"JWT\",\"kid\":\"%s\"}", "k-current");
	assert_string_equal(hdr, expect_hdr);

	assert_int_equal(craft_jwt_verify(f->set, token, strlen(token), &o, &c, &why), CRAFT_OK);
	assert_string_equal(why, "valid");
	assert_string_equal(c.sub, "alice");
	assert_string_equal(c.role, "admin");
	assert_string_equal(c.kid, "k-current");
	assert_int_equal(c.iat, NOW);
	assert_int_equal(c.exp, NOW + 3600);
	assert_string_equal(json_string_value(json_object_get(c.payload, "jti")), "id-1");
	craft_jwt_claims_cleanup(&c);
	assert_null(c.payload);
	craft_jwt_claims_cleanup(&c); /* twice is harmless */

	/* no reason pointer, no options */
	assert_int_equal(craft_jwt_verify(f->set, token, strlen(token), NULL, &c, NULL),
			 CRAFT_JWT_EEXPIRED); /* NOW is in 2023: real time is later */
	free(token);

	/* the previous key still verifies; a public-only key cannot sign */
	assert_int_equal(craft_jwt_sign(f->old, claims, &token), CRAFT_OK);
	expect(f, token, &o, CRAFT_OK, "valid");
	free(token);
	token = NULL;
	assert_int_equal(craft_jwt_sign(craft_jwks_key_at(f->set, 0), claims, &token),
			 CRAFT_EINVAL);
	assert_null(token);
	json_decref(claims);

	/* claims must be an object */
	claims = json_array();
	assert_int_equal(craft_jwt_sign(f->signer, claims, &token), CRAFT_EINVAL);
	json_decref(claims);
}

static void test_sign_oversize(void **state)
{
	struct fixture *f = *state;
	char *big = craft_xmalloc(7000), *token = NULL;
	json_t *claims;

	memset(big, 'x', 6999);
	big[6999] = '\0';
	claims =
	    json_pack("{s:s, s:I, s:s}", "sub", "alice", "exp", (json_int_t)(NOW + 60), "pad", big);
	assert_int_equal(craft_jwt_sign(f->signer, claims, &token), CRAFT_ETOOBIG);
	assert_null(token);
	json_decref(claims);
	free(big);
}

/* ---- JWK sets -------------------------------------------------------------- */

static void test_jwks_json_round_trip(void **state)
{
	struct fixture *f = *state;
	json_t *doc = craft_jwks_to_json(f->set), *again, *k0;
	const char *names[] = {"kty", "use", "kid", "alg", "n", "e"};
	char *text = json_dumps(doc, JSON_COMPACT), err[128] = "";
	craft_jwks *parsed = NULL;
	void *it;
	size_t i = 0;

	assert_int_equal(json_array_size(json_object_get(doc, "keys")), 2);
	k0 = json_array_get(json_object_get(doc, "keys"), 0);
	for (it = json_object_iter(k0); it; it = json_object_iter_next(k0, it), i++)
		assert_string_equal(json_object_iter_key(it), names[i]);
	assert_int_equal(i, 6);
	assert_string_equal(json_string_value(json_object_get(k0, "kid")), "k-current");
	assert_string_equal(json_string_value(json_object_get(k0, "e")), "AQAB");
	assert_int_equal(strlen(json_string_value(json_object_get(k0, "n"))), 342);
	assert_null(json_object_get(k0, "d"));

	assert_int_equal(craft_jwks_from_json(text, strlen(text), &parsed, err, sizeof(err)),
			 CRAFT_OK);
	assert_int_equal(craft_jwks_count(parsed), 2);
	assert_string_equal(craft_jwt_key_kid(craft_jwks_key_at(parsed, 0)), "k-current");
	assert_string_equal(craft_jwt_key_kid(craft_jwks_key_at(parsed, 1)), "k-previous");
	assert_null(craft_jwks_key_at(parsed, 2));
	assert_non_null(craft_jwks_find(parsed, "k-previous"));
	assert_null(craft_jwks_find(parsed, "k-other"));
	again = craft_jwks_to_json(parsed);
	assert_true(json_equal(doc, again));

	/* a private key in a set is published without its private members */
	craft_jwks *mixed = craft_jwks_new();
	craft_jwt_key *dup = NULL;
	assert_int_equal(craft_jwt_key_dup_public(f->signer, &dup), CRAFT_OK);
	assert_false(craft_jwt_key_has_private(dup));
	assert_string_equal(craft_jwt_key_kid(dup), "k-current");
	assert_int_equal(craft_jwks_add(mixed, dup), CRAFT_OK);
	json_t *one = craft_jwks_to_json(mixed);
	assert_true(json_equal(json_array_get(json_object_get(one, "keys"), 0), k0));
	json_decref(one);
	craft_jwks_free(mixed);

	json_decref(again);
	json_decref(doc);
	free(text);
	craft_jwks_free(parsed);
}

static void test_jwks_add_rules(void **state)
{
	struct fixture *f = *state;
	craft_jwks *set = craft_jwks_new();
	craft_jwt_key *a = NULL, *b = NULL;

	assert_int_equal(craft_jwt_key_dup_public(f->signer, &a), CRAFT_OK);
	assert_int_equal(craft_jwt_key_dup_public(f->signer, &b), CRAFT_OK);
	assert_int_equal(craft_jwks_add(set, a), CRAFT_OK);
	assert_int_equal(craft_jwks_add(set, b), CRAFT_ECONFLICT); /* b freed by the set */
	assert_int_equal(craft_jwks_add(set, NULL), CRAFT_EINVAL);
	assert_int_equal(craft_jwks_count(set), 1);
	craft_jwks_free(set);
	craft_jwks_free(NULL);
	craft_jwt_key_free(NULL);
}

/* A JWK set document with the fixture's current key plus `extra` entries. */
static char *jwks_with(const struct fixture *f, json_t *extra)
{
	json_t *doc = craft_jwks_to_json(f->set), *keys = json_object_get(doc, "keys");
	char *text;

	json_array_remove(keys, 1);
	if (extra)
		json_array_extend(keys, extra);
	text = json_dumps(doc, JSON_COMPACT);
	json_decref(doc);
	return text;
}

/* A JWK set entry for the fixture's previous key, altered by `set_name` =
 * `value` (value NULL deletes the member). */
static json_t *old_entry(const struct fixture *f, const char *name, json_t *value)
{
	json_t *jwk = craft_jwt_key_to_jwk(f->old);

	if (name && value)
		json_object_set_new(jwk, name, value);
	else if (name)
		json_object_del(jwk, name);
	return jwk;
}

static size_t parse_count(const char *text, int *rc)
{
	craft_jwks *set = NULL;
	char err[128] = "";
	size_t n;

	*rc = craft_jwks_from_json(text, strlen(text), &set, err, sizeof(err));
	if (*rc != CRAFT_OK) {
		assert_null(set);
		assert_true(strlen(err) > 0);
		return 0;
	}
	n = craft_jwks_count(set);
	craft_jwks_free(set);
	return n;
}

static void test_jwks_skips_unusable(void **state)
{
	struct fixture *f = *state;
	struct {
		const char *name;
		json_t *value;
		size_t want;
	} cases[] = {
	    {.name = NULL, .value = NULL, .want = 2},
	    {.name = "kty", .value = json_string("EC"), .want = 1},
	    {.name = "kty", .value = NULL, .want = 1},
	    {.name = "use", .value = json_string("enc"), .want = 1},
	    {.name = "use", .value = NULL, .want = 2},
	    {.name = "alg", .value = json_string("RS512"), .want = 1},
	    {.name = "alg", .value = json_string("rs256"), .want = 1},
	    {.name = "alg", .value = NULL, .want = 2},
	    {.name = "kid", .value = NULL, .want = 1},
	    {.name = "kid", .value = json_integer(7), .want = 1},
	    {.name = "kid", .value = json_string(""), .want = 1},
	    {.name = "kid", .value = json_string("bad\nkid"), .want = 1},
	    {.name = "e", .value = json_string("AQAB=="), .want = 1},
	    {.name = "e", .value = json_string("AQAC"), .want = 1}, /* even exponent */
	    {.name = "e", .value = json_string("AQ"), .want = 1},   /* e = 1 */
	    {.name = "e", .value = NULL, .want = 1},
	    {.name = "n", .value = json_string("AQAB+"), .want = 1},
	    {.name = "n", .value = json_integer(3), .want = 1},
	};

	for (size_t i = 0; i < CRAFT_ARRAY_LEN(cases); i++) {
		json_t *extra = json_pack("[o]", old_entry(f, cases[i].name, cases[i].value));
		char *text = jwks_with(f, extra);
		int rc;
		size_t n = parse_count(text, &rc);
		if (rc != CRAFT_OK || n != cases[i].want)
			fail_msg("case %zu (%s): rc %d, %zu keys, expected %zu", i,
				 cases[i].name ? cases[i].name : "-", rc, n, cases[i].want);
		json_decref(extra);
		free(text);
	}

	/* entries that are not objects are skipped as well */
	json_t *junk = json_pack("[i, s, [], null]", 1, "x");
	char *text = jwks_with(f, junk);
	int rc;
	assert_int_equal(parse_count(text, &rc), 1);
	json_decref(junk);
	free(text);
}

/* Public numbers of a fresh 1024-bit key made directly with OpenSSL. */
static json_t *small_key_jwk(const char *kid)
{
	EVP_PKEY *pkey = EVP_RSA_gen(1024);
	BIGNUM *n = NULL, *e = NULL;
	unsigned char buf[256];
	char *n64, *e64;
	json_t *jwk;

	assert_non_null(pkey);
	assert_int_equal(EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_RSA_N, &n), 1);
	assert_int_equal(EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_RSA_E, &e), 1);
	n64 = craft_base64url_encode_alloc(buf, (size_t)BN_bn2bin(n, buf));
	e64 = craft_base64url_encode_alloc(buf, (size_t)BN_bn2bin(e, buf));
	jwk = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "kty", "RSA", "use", "sig", "kid", kid,
			"alg", "RS256", "n", n64, "e", e64);
	free(n64);
	free(e64);
	BN_free(n);
	BN_free(e);
	EVP_PKEY_free(pkey);
	return jwk;
}

static void test_jwks_small_key_skipped(void **state)
{
	struct fixture *f = *state;
	json_t *extra = json_pack("[o]", small_key_jwk("small"));
	char *text = jwks_with(f, extra), err[128] = "";
	craft_jwks *set = NULL;
	json_t *alone;

	assert_int_equal(craft_jwks_from_json(text, strlen(text), &set, err, sizeof(err)),
			 CRAFT_OK);
	assert_int_equal(craft_jwks_count(set), 1);
	assert_null(craft_jwks_find(set, "small"));
	craft_jwks_free(set);
	free(text);

	/* a set of only that key has nothing usable; the key alone is refused */
	alone = json_pack("{s:[O]}", "keys", json_array_get(extra, 0));
	text = json_dumps(alone, JSON_COMPACT);
	set = NULL;
	assert_int_equal(craft_jwks_from_json(text, strlen(text), &set, err, sizeof(err)),
			 CRAFT_ENOTFOUND);
	assert_null(set);
	craft_jwt_key *key = NULL;
	assert_int_equal(craft_jwt_key_from_jwk(json_array_get(extra, 0), &key, err, sizeof(err)),
			 CRAFT_EINVAL);
	assert_null(key);
	assert_int_equal(craft_jwt_key_generate(1024, NULL, &key), CRAFT_EINVAL);
	json_decref(alone);
	json_decref(extra);
	free(text);
}

static void test_jwks_document_errors(void **state)
{
	struct fixture *f = *state;
	json_t *dup = json_pack("[o]", old_entry(f, "kid", json_string("k-current")));
	char *text = jwks_with(f, dup), *big;
	int rc;

	assert_int_equal(parse_count(text, &rc), 0);
	assert_int_equal(rc, CRAFT_EINVAL); /* repeated kid */
	json_decref(dup);
	free(text);

	const char *bad[] = {"",
			     "[]",
			     "{}",
			     "{\"keys\":{}}",
			     "{\"keys\":[]} x",
			     "not json",
			     "{\"keys\":[],\"keys\":[]}"};
	for (size_t i = 0; i < CRAFT_ARRAY_LEN(bad); i++) {
		parse_count(bad[i], &rc);
		if (rc != CRAFT_EINVAL)
			fail_msg("document %zu gave %d", i, rc);
	}
	parse_count("{\"keys\":[]}", &rc);
	assert_int_equal(rc, CRAFT_ENOTFOUND);

	/* 33 entries, and a document over 64 KiB */
	json_t *many = json_array();
	for (int i = 0; i < 32; i++)
		json_array_append_new(many, json_object());
	text = jwks_with(f, many);
	parse_count(text, &rc);
	assert_int_equal(rc, CRAFT_ETOOBIG);
	free(text);
	json_decref(many);
	big = craft_xmalloc(CRAFT_JWKS_MAX_LEN + 2);
	memset(big, ' ', CRAFT_JWKS_MAX_LEN + 1);
	big[0] = '{';
	memcpy(big + CRAFT_JWKS_MAX_LEN - 12, "\"keys\":[]}", 10);
	big[CRAFT_JWKS_MAX_LEN + 1] = '\0';
	parse_count(big, &rc);
	assert_int_equal(rc, CRAFT_ETOOBIG);
	free(big);
}

/* ---- verification: what must be refused ---------------------------------------- */

static void test_reject_algorithms(void **state)
{
	struct fixture *f = *state;
	struct craft_jwt_verify_opts o = opts_now(NOW);
	const char *algs[] = {"\"none\"",   "\"HS256\"", "\"RS512\"", "\"PS256\"",  "\"rs256\"",
			      "\"RS256 \"", "null",      "256",       "[\"RS256\"]"};
	char payload[256], header[256], *token;

	std_payload("", payload, sizeof(payload));
	for (size_t i = 0; i < CRAFT_ARRAY_LEN(algs); i++) {
		snprintf(header, sizeof(header),
			 "{\"alg\":%s,\"typ\":\"JWT\",\"kid\":\"k-current\"}", algs[i]);
		expect_signed(f, header, payload, &o, CRAFT_JWT_EALG, "algorithm not allowed");
	}
	expect_signed(f, "{\"typ\":\"JWT\",\"kid\":\"k-current\"}", payload, &o, CRAFT_JWT_EALG,
		      NULL);

	/* alg none with an empty signature */
	char *h = b64_str("{\"alg\":\"none\",\"typ\":\"JWT\"}"), *p = b64_str(payload);
	token = join(h, p, "");
	expect(f, token, &o, CRAFT_JWT_EALG, "algorithm not allowed");
	free(token);
	free(h);
	free(p);
}

/* The classic confusion attack: HMAC the token with the public key's PEM text. */
static void test_reject_hs256_with_public_pem(void **state)
{
	struct fixture *f = *state;
	struct craft_jwt_verify_opts o = opts_now(NOW);
	char path[128], pem[4096], payload[256], *h, *p, *input, *mac64, *token;
	unsigned char mac[32];
	unsigned int mac_len = 0;
	FILE *fp;
	size_t pem_len;

	snprintf(path, sizeof(path), "%s/hs-pub.pem", f->dir);
	assert_int_equal(craft_jwt_key_write_pem(f->signer, NULL, path), CRAFT_OK);
	fp = fopen(path, "rb");
	assert_non_null(fp);
	pem_len = fread(pem, 1, sizeof(pem), fp);
	fclose(fp);
	assert_true(pem_len > 100);

	const char *headers[] = {"{\"alg\":\"HS256\",\"typ\":\"JWT\",\"kid\":\"k-current\"}",
				 "{\"alg\":\"RS256\",\"typ\":\"JWT\",\"kid\":\"k-current\"}"};
	const int want[] = {CRAFT_JWT_EALG, CRAFT_JWT_ESIG};
	for (size_t i = 0; i < 2; i++) {
		h = b64_str(headers[i]);
		p = b64_str(std_payload("", payload, sizeof(payload)));
		input = join(h, p, NULL);
		assert_non_null(HMAC(EVP_sha256(), pem, (int)pem_len, (unsigned char *)input,
				     strlen(input), mac, &mac_len));
		mac64 = craft_base64url_encode_alloc(mac, mac_len);
		token = join(h, p, mac64);
		expect(f, token, &o, want[i], NULL);
		free(h);
		free(p);
		free(input);
		free(mac64);
		free(token);
	}
}

static void test_expiry_and_leeway(void **state)
{
	struct fixture *f = *state;
	struct craft_jwt_verify_opts o = opts_now(NOW);
	char header[256], payload[256];

	std_header(f->signer, header, sizeof(header));
	snprintf(payload, sizeof(payload), "{\"sub\":\"alice\",\"exp\":%lld}", NOW - 10);
	expect_signed(f, header, payload, &o, CRAFT_JWT_EEXPIRED, "token expired");
	o.leeway_s = 30;
	expect_signed(f, header, payload, &o, CRAFT_OK, NULL);
	o.leeway_s = 10; /* now < exp + leeway is false at equality */
	expect_signed(f, header, payload, &o, CRAFT_JWT_EEXPIRED, NULL);
	o.leeway_s = 0;
	snprintf(payload, sizeof(payload), "{\"sub\":\"alice\",\"exp\":%lld}", NOW);
	expect_signed(f, header, payload, &o, CRAFT_JWT_EEXPIRED, NULL);
	snprintf(payload, sizeof(payload), "{\"sub\":\"alice\",\"exp\":%lld}", NOW + 1);
	expect_signed(f, header, payload, &o, CRAFT_OK, NULL);
	snprintf(payload, sizeof(payload), "{\"sub\":\"alice\",\"exp\":%lld.5}", NOW + 1);
	expect_signed(f, header, payload, &o, CRAFT_OK, NULL); /* real NumericDate */
	snprintf(payload, sizeof(payload), "{\"sub\":\"alice\",\"exp\":9223372036854775807}");
	expect_signed(f, header, payload, &o, CRAFT_OK, NULL);
	o.leeway_s = 100000; /* clamped to 600 */
	snprintf(payload, sizeof(payload), "{\"sub\":\"alice\",\"exp\":%lld}", NOW - 601);
	expect_signed(f, header, payload, &o, CRAFT_JWT_EEXPIRED, NULL);
}

static void test_not_before_and_issued_at(void **state)
{
	struct fixture *f = *state;
	struct craft_jwt_verify_opts o = opts_now(NOW);
	char header[256], payload[256], extra[64];

	std_header(f->signer, header, sizeof(header));
	snprintf(extra, sizeof(extra), ",\"nbf\":%lld", NOW + 100);
	snprintf(payload, sizeof(payload), "{\"sub\":\"a\",\"exp\":%lld%s}", NOW + 600, extra);
	expect_signed(f, header, payload, &o, CRAFT_JWT_ENOTYET, "token not yet valid");
	snprintf(payload, sizeof(payload), "{\"sub\":\"a\",\"exp\":%lld,\"nbf\":%lld}", NOW + 600,
		 NOW + 20);
	expect_signed(f, header, payload, &o, CRAFT_JWT_ENOTYET, NULL);
	o.leeway_s = 30;
	expect_signed(f, header, payload, &o, CRAFT_OK, NULL);
	snprintf(payload, sizeof(payload), "{\"sub\":\"a\",\"exp\":%lld,\"iat\":%lld}", NOW + 600,
		 NOW + 100);
	expect_signed(f, header, payload, &o, CRAFT_JWT_ENOTYET, "token issued in the future");
	snprintf(payload, sizeof(payload), "{\"sub\":\"a\",\"exp\":%lld,\"iat\":%lld}", NOW + 600,
		 NOW + 25);
	expect_signed(f, header, payload, &o, CRAFT_OK, NULL);
	snprintf(payload, sizeof(payload), "{\"sub\":\"a\",\"exp\":%lld,\"nbf\":\"0\"}", NOW + 600);
	expect_signed(f, header, payload, &o, CRAFT_JWT_ECLAIMS, "invalid nbf claim");
	snprintf(payload, sizeof(payload), "{\"sub\":\"a\",\"exp\":%lld,\"iat\":true}", NOW + 600);
	expect_signed(f, header, payload, &o, CRAFT_JWT_ECLAIMS, "invalid iat claim");
}

static void test_tampering(void **state)
{
	struct fixture *f = *state;
	struct craft_jwt_verify_opts o = opts_now(NOW);
	char header[256], payload[256], *token, *forged, *p2, *dot1, *dot2;

	std_header(f->signer, header, sizeof(header));
	token = make_token(f->signer, header, std_payload("", payload, sizeof(payload)));
	expect(f, token, &o, CRAFT_OK, NULL);

	/* same header and signature, the role changed in the payload */
	char *role = strstr(payload, "\"user\"");
	memcpy(role, "\"admn\"", 6);
	p2 = b64_str(payload);
	dot1 = strchr(token, '.');
	dot2 = strchr(dot1 + 1, '.');
	*dot1 = '\0';
	forged = join(token, p2, dot2 + 1);
	*dot1 = '.';
	expect(f, forged, &o, CRAFT_JWT_ESIG, "bad signature");
	free(forged);
	free(p2);

	/* a changed character in the middle of the signature */
	size_t at = (size_t)(dot2 - token) + 40;
	char saved = token[at];
	token[at] = saved == 'Q' ? 'R' : 'Q';
	expect(f, token, &o, CRAFT_JWT_ESIG, "bad signature");
	/* restored it verifies; a signature one byte short does not */
	token[at] = saved;
	expect(f, token, &o, CRAFT_OK, NULL);
	token[strlen(token) - 2] = '\0'; /* 340 characters: 255 bytes, one short */
	expect(f, token, &o, CRAFT_JWT_ESIG, NULL);
	free(token);

	/* a token of the previous key presented under the current kid */
	token = make_token(f->old, header, payload);
	expect(f, token, &o, CRAFT_JWT_ESIG, NULL);
	free(token);
}

static void test_issuer_and_audience(void **state)
{
	struct fixture *f = *state;
	struct craft_jwt_verify_opts o = opts_now(NOW);
	char header[256], payload[512];

	std_header(f->signer, header, sizeof(header));
	std_payload(",\"aud\":\"craftista\"", payload, sizeof(payload));
	o.issuer = "https://auth.test";
	o.audience = "craftista";
	expect_signed(f, header, payload, &o, CRAFT_OK, NULL);
	o.issuer = "https://auth.test/";
	expect_signed(f, header, payload, &o, CRAFT_JWT_EISSUER, "wrong issuer");
	o.issuer = "";
	expect_signed(f, header, payload, &o, CRAFT_OK, NULL); /* empty: not checked */
	o.issuer = "https://auth.test";
	o.audience = "other";
	expect_signed(f, header, payload, &o, CRAFT_JWT_EAUDIENCE, "wrong audience");

	std_payload(",\"aud\":[\"other\",\"craftista\"]", payload, sizeof(payload));
	o.audience = "craftista";
	expect_signed(f, header, payload, &o, CRAFT_OK, NULL);
	std_payload(",\"aud\":[\"other\",\"craftista2\",7]", payload, sizeof(payload));
	expect_signed(f, header, payload, &o, CRAFT_JWT_EAUDIENCE, NULL);
	std_payload("", payload, sizeof(payload));
	expect_signed(f, header, payload, &o, CRAFT_JWT_EAUDIENCE, NULL); /* aud missing */
	o.audience = NULL;
	expect_signed(f, header, payload, &o, CRAFT_OK, NULL);

	snprintf(payload, sizeof(payload), "{\"sub\":\"a\",\"exp\":%lld}", NOW + 60);
	expect_signed(f, header, payload, &o, CRAFT_JWT_EISSUER, NULL); /* iss missing */
	snprintf(payload, sizeof(payload), "{\"sub\":\"a\",\"exp\":%lld,\"iss\":1}", NOW + 60);
	expect_signed(f, header, payload, &o, CRAFT_JWT_EISSUER, NULL);
}

static void test_key_selection(void **state)
{
	struct fixture *f = *state;
	struct craft_jwt_verify_opts o = opts_now(NOW);
	char payload[256], *token;
	craft_jwks *one = craft_jwks_new();
	craft_jwt_key *pub = NULL;

	std_payload("", payload, sizeof(payload));
	expect_signed(f, "{\"alg\":\"RS256\",\"typ\":\"JWT\",\"kid\":\"k-unknown\"}", payload, &o,
		      CRAFT_ENOTFOUND, "unknown key id");
	expect_signed(f, "{\"alg\":\"RS256\",\"typ\":\"JWT\",\"kid\":7}", payload, &o, CRAFT_EINVAL,
		      "malformed key id");
	expect_signed(f, "{\"alg\":\"RS256\",\"typ\":\"JWT\",\"kid\":\"\"}", payload, &o,
		      CRAFT_EINVAL, NULL);

	/* no kid: fine against a set of one key unless a kid is required */
	token = make_token(f->signer, "{\"alg\":\"RS256\",\"typ\":\"JWT\"}", payload);
	expect(f, token, &o, CRAFT_ENOTFOUND, "missing key id"); /* two keys: ambiguous */
	assert_int_equal(craft_jwt_key_dup_public(f->signer, &pub), CRAFT_OK);
	assert_int_equal(craft_jwks_add(one, pub), CRAFT_OK);
	expect_set(one, token, &o, CRAFT_OK, NULL);
	o.require_kid = true;
	expect_set(one, token, &o, CRAFT_EINVAL, "missing key id");
	free(token);
	craft_jwks_free(one);
}

static void test_header_rules(void **state)
{
	struct fixture *f = *state;
	struct craft_jwt_verify_opts o = opts_now(NOW);
	char payload[256];

	std_payload("", payload, sizeof(payload));
	expect_signed(f, "{\"alg\":\"RS256\",\"typ\":\"jwt\",\"kid\":\"k-current\"}", payload, &o,
		      CRAFT_OK, NULL);
	expect_signed(f, "{\"alg\":\"RS256\",\"kid\":\"k-current\"}", payload, &o, CRAFT_OK, NULL);
	expect_signed(f, "{\"alg\":\"RS256\",\"typ\":\"JOSE\",\"kid\":\"k-current\"}", payload, &o,
		      CRAFT_EINVAL, "unsupported token type");
	expect_signed(f, "{\"alg\":\"RS256\",\"typ\":1,\"kid\":\"k-current\"}", payload, &o,
		      CRAFT_EINVAL, NULL);
	expect_signed(f, "{\"alg\":\"RS256\",\"kid\":\"k-current\",\"crit\":[\"exp\"],\"exp\":1}",
		      payload, &o, CRAFT_EINVAL, "critical header not supported");
	expect_signed(f, "{\"alg\":\"RS256\",\"alg\":\"RS256\",\"kid\":\"k-current\"}", payload, &o,
		      CRAFT_EINVAL, "malformed header");
	expect_signed(f, "[\"RS256\"]", payload, &o, CRAFT_EINVAL, "malformed header");
	expect_signed(f, "\"RS256\"", payload, &o, CRAFT_EINVAL, "malformed header");
	expect_signed(f, "{\"alg\":\"RS256\",\"kid\":\"k-current\"", payload, &o, CRAFT_EINVAL,
		      "malformed header");
}

static void test_payload_rules(void **state)
{
	struct fixture *f = *state;
	struct craft_jwt_verify_opts o = opts_now(NOW);
	char header[256], payload[256];
	const long long exp = NOW + 60;

	std_header(f->signer, header, sizeof(header));
	snprintf(payload, sizeof(payload), "{\"sub\":\"a\",\"sub\":\"admin\",\"exp\":%lld}", exp);
	expect_signed(f, header, payload, &o, CRAFT_EINVAL, "malformed payload");
	expect_signed(f, header, "[1]", &o, CRAFT_EINVAL, "malformed payload");
	snprintf(payload, sizeof(payload), "{\"sub\":\"a\",\"exp\":%lld} ,", exp);
	expect_signed(f, header, payload, &o, CRAFT_EINVAL, "malformed payload");
	expect_signed(f, header, "{\"sub\":\"a\"}", &o, CRAFT_JWT_ECLAIMS, "invalid exp claim");
	snprintf(payload, sizeof(payload), "{\"sub\":\"a\",\"exp\":\"%lld\"}", exp);
	expect_signed(f, header, payload, &o, CRAFT_JWT_ECLAIMS, "invalid exp claim");
	snprintf(payload, sizeof(payload), "{\"sub\":\"a\",\"exp\":null}");
	expect_signed(f, header, payload, &o, CRAFT_JWT_ECLAIMS, NULL);
	snprintf(payload, sizeof(payload), "{\"exp\":%lld}", exp);
	expect_signed(f, header, payload, &o, CRAFT_JWT_ECLAIMS, "missing sub claim");
	snprintf(payload, sizeof(payload), "{\"sub\":\"\",\"exp\":%lld}", exp);
	expect_signed(f, header, payload, &o, CRAFT_JWT_ECLAIMS, "missing sub claim");
	snprintf(payload, sizeof(payload), "{\"sub\":5,\"exp\":%lld}", exp);
	expect_signed(f, header, payload, &o, CRAFT_JWT_ECLAIMS, NULL);
	snprintf(payload, sizeof(payload), "{\"sub\":\"a\",\"role\":1,\"exp\":%lld}", exp);
	expect_signed(f, header, payload, &o, CRAFT_JWT_ECLAIMS, "invalid role claim");
	snprintf(payload, sizeof(payload), "{\"sub\":\"a\",\"exp\":%lld}", exp);
	expect_signed(f, header, payload, &o, CRAFT_OK, NULL); /* role optional */
}

static void test_structure(void **state)
{
	struct fixture *f = *state;
	struct craft_jwt_verify_opts o = opts_now(NOW);
	char header[256], payload[256], *token, *bad, *dot;
	size_t len;

	std_header(f->signer, header, sizeof(header));
	token = make_token(f->signer, header, std_payload("", payload, sizeof(payload)));
	len = strlen(token);
	bad = craft_xmalloc(len + CRAFT_JWT_MAX_LEN + 8);

	snprintf(bad, len + 8, "%s.", token); /* four segments */
	expect(f, bad, &o, CRAFT_EINVAL, "malformed token");
	snprintf(bad, len + 8, "%s.e30", token);
	expect(f, bad, &o, CRAFT_EINVAL, "malformed token");
	memcpy(bad, token, len + 1); /* two segments */
	*strrchr(bad, '.') = '\0';
	expect(f, bad, &o, CRAFT_EINVAL, "malformed token");
	snprintf(bad, len + 8, ".%s", strchr(token, '.') + 1); /* empty header */
	expect(f, bad, &o, CRAFT_EINVAL, "malformed token");
	expect(f, "..", &o, CRAFT_EINVAL, NULL);
	expect(f, "", &o, CRAFT_EINVAL, NULL);
	expect(f, "abc", &o, CRAFT_EINVAL, NULL);

	/* '=' padding or other characters in each segment */
	dot = strchr(token, '.');
	snprintf(bad, len + 8, "%.*s=%s", (int)(dot - token), token, dot);
	expect(f, bad, &o, CRAFT_EINVAL, "malformed header");
	dot = strrchr(token, '.');
	snprintf(bad, len + 8, "%.*s=%s", (int)(dot - token), token, dot);
	expect(f, bad, &o, CRAFT_JWT_ESIG, "bad signature"); /* the signature is checked first */
	/* a padded payload segment with a valid signature over those very bytes */
	char *h = b64_str(header), *p = b64_str(payload), *signed_bad;
	char *padded = craft_xmalloc(strlen(p) + 3);
	snprintf(padded, strlen(p) + 3, "%s==", p);
	signed_bad = sign_segments(f->signer, h, padded);
	expect(f, signed_bad, &o, CRAFT_EINVAL, "malformed payload");
	free(signed_bad);
	free(h);
	free(p);
	free(padded);
	snprintf(bad, len + 8, "%s=", token);
	expect(f, bad, &o, CRAFT_EINVAL, "malformed signature");
	memcpy(bad, token, len + 1);
	bad[len - 5] = '+';
	expect(f, bad, &o, CRAFT_EINVAL, "malformed signature");
	expect(f, token, &o, CRAFT_OK, NULL);

	/* oversize, checked before anything else */
	memset(bad, 'A', CRAFT_JWT_MAX_LEN + 1);
	bad[CRAFT_JWT_MAX_LEN + 1] = '\0';
	expect(f, bad, &o, CRAFT_ETOOBIG, "token too large");
	assert_int_equal(craft_jwt_verify(f->set, NULL, 0, &o, &(struct craft_jwt_claims){0}, NULL),
			 CRAFT_EINVAL);
	free(bad);
	free(token);
}

/* ---- keys on disk ---------------------------------------------------------------- */

static void test_pem_round_trip(void **state)
{
	struct fixture *f = *state;
	struct craft_jwt_verify_opts o = opts_now(NOW);
	char priv[128], pub[128], err[256] = "", thumb[64], thumb2[64], payload[256], header[256];
	craft_jwt_key *lp = NULL, *lq = NULL, *lr = NULL;
	craft_jwks *set = craft_jwks_new();
	struct stat st;
	char *token;

	snprintf(priv, sizeof(priv), "%s/private.pem", f->dir);
	snprintf(pub, sizeof(pub), "%s/public.pem", f->dir);
	assert_int_equal(craft_jwt_key_write_pem(f->signer, priv, pub), CRAFT_OK);
	assert_int_equal(stat(priv, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(stat(pub, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0644);
	/* overwrite in place, still 0600 */
	assert_int_equal(craft_jwt_key_write_pem(f->signer, priv, NULL), CRAFT_OK);
	assert_int_equal(stat(priv, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);

	assert_int_equal(craft_jwt_key_load_private_pem(priv, "k-current", &lp, err, sizeof(err)),
			 CRAFT_OK);
	assert_true(craft_jwt_key_has_private(lp));
	assert_int_equal(craft_jwt_key_bits(lp), 2048);
	assert_int_equal(craft_jwt_key_load_public_pem(pub, NULL, &lq, err, sizeof(err)), CRAFT_OK);
	assert_false(craft_jwt_key_has_private(lq));

	/* the derived kid is the same for the private and the public file */
	assert_int_equal(craft_jwt_key_thumbprint_kid(f->signer, thumb), CRAFT_OK);
	assert_int_equal(strlen(thumb), CRAFT_JWT_THUMB_KID_LEN);
	assert_int_equal(strspn(thumb, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123"
				       "456789-_"),
			 CRAFT_JWT_THUMB_KID_LEN);
	assert_string_equal(craft_jwt_key_kid(lq), thumb);
	assert_int_equal(craft_jwt_key_load_private_pem(priv, "", &lr, err, sizeof(err)), CRAFT_OK);
	assert_string_equal(craft_jwt_key_kid(lr), thumb);
	assert_int_equal(craft_jwt_key_thumbprint_kid(f->old, thumb2), CRAFT_OK);
	assert_string_not_equal(thumb, thumb2);

	/* sign with the loaded private key, verify with the loaded public key */
	assert_int_equal(craft_jwks_add(set, lq), CRAFT_OK);
	std_payload("", payload, sizeof(payload));
	snprintf(header, sizeof(header), "{\"alg\":\"RS256\",\"typ\":\"JWT\",\"kid\":\"%s\"}",
		 thumb);
	token = make_token(lr, header, payload);
	expect_set(set, token, &o, CRAFT_OK, NULL);
	free(token);

	/* a public key cannot be loaded as a private one, nor written as one */
	craft_jwt_key_free(lr);
	lr = NULL;
	assert_int_equal(craft_jwt_key_load_private_pem(pub, NULL, &lr, err, sizeof(err)),
			 CRAFT_EINVAL);
	assert_null(lr);
	assert_int_equal(craft_jwt_key_write_pem(lq, priv, NULL), CRAFT_EINVAL);
	/* nor is a private key file taken where a public key is expected */
	assert_int_equal(craft_jwt_key_load_public_pem(priv, NULL, &lr, err, sizeof(err)),
			 CRAFT_EINVAL);
	assert_null(lr);

	/* missing file, bad kid, no temporary files left behind */
	assert_int_equal(
	    craft_jwt_key_load_public_pem("/nonexistent/k.pem", NULL, &lr, err, sizeof(err)),
	    CRAFT_EIO);
	assert_non_null(strstr(err, "/nonexistent/k.pem"));
	assert_int_equal(craft_jwt_key_load_public_pem(pub, "bad\tkid", &lr, err, sizeof(err)),
			 CRAFT_EINVAL);
	assert_int_equal(craft_jwt_key_write_pem(f->signer, "/nonexistent/dir/k.pem", NULL),
			 CRAFT_EIO);
	DIR *d = opendir(f->dir);
	struct dirent *e;
	while ((e = readdir(d)))
		assert_null(strstr(e->d_name, ".tmp."));
	closedir(d);

	craft_jwt_key_free(lp);
	craft_jwks_free(set);
}

/* PEM text in the other encodings OpenSSL writes (PKCS#1), and junk. */
static char *encode_pem(EVP_PKEY *pkey, int selection, const char *structure)
{
	OSSL_ENCODER_CTX *ctx =
	    OSSL_ENCODER_CTX_new_for_pkey(pkey, selection, "PEM", structure, NULL);
	unsigned char *data = NULL;
	size_t len = 0;
	char *text;

	assert_non_null(ctx);
	assert_int_equal(OSSL_ENCODER_to_data(ctx, &data, &len), 1);
	OSSL_ENCODER_CTX_free(ctx);
	text = craft_xmalloc(len + 1);
	memcpy(text, data, len);
	text[len] = '\0';
	OPENSSL_free(data);
	return text;
}

static void test_pem_formats(void **state)
{
	EVP_PKEY *pkey = EVP_RSA_gen(2048);
	char *pkcs1_priv, *pkcs1_pub, err[256] = "";
	craft_jwt_key *a = NULL, *b = NULL;
	char ta[64], tb[64];

	(void)state;
	assert_non_null(pkey);
	pkcs1_priv = encode_pem(pkey, EVP_PKEY_KEYPAIR, "type-specific");
	pkcs1_pub = encode_pem(pkey, EVP_PKEY_PUBLIC_KEY, "type-specific");
	assert_non_null(strstr(pkcs1_priv, "BEGIN RSA PRIVATE KEY"));
	assert_non_null(strstr(pkcs1_pub, "BEGIN RSA PUBLIC KEY"));

	assert_int_equal(
	    craft_jwt_key_from_pem(pkcs1_priv, strlen(pkcs1_priv), "a", &a, err, sizeof(err)),
	    CRAFT_OK);
	assert_true(craft_jwt_key_has_private(a));
	assert_int_equal(
	    craft_jwt_key_from_pem(pkcs1_pub, strlen(pkcs1_pub), "b", &b, err, sizeof(err)),
	    CRAFT_OK);
	assert_false(craft_jwt_key_has_private(b));
	assert_int_equal(craft_jwt_key_thumbprint_kid(a, ta), CRAFT_OK);
	assert_int_equal(craft_jwt_key_thumbprint_kid(b, tb), CRAFT_OK);
	assert_string_equal(ta, tb);
	craft_jwt_key_free(a);
	craft_jwt_key_free(b);
	b = NULL;

	const char *junk = "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n";
	assert_int_equal(craft_jwt_key_from_pem(junk, strlen(junk), NULL, &b, err, sizeof(err)),
			 CRAFT_EINVAL);
	assert_int_equal(craft_jwt_key_from_pem("", 0, NULL, &b, err, sizeof(err)), CRAFT_EINVAL);
	assert_null(b);

	/* a 1024-bit key in PEM is refused */
	EVP_PKEY *small = EVP_RSA_gen(1024);
	char *small_pem = encode_pem(small, EVP_PKEY_PUBLIC_KEY, "SubjectPublicKeyInfo");
	assert_int_equal(
	    craft_jwt_key_from_pem(small_pem, strlen(small_pem), NULL, &b, err, sizeof(err)),
	    CRAFT_EINVAL);
	assert_non_null(strstr(err, "1024"));
	free(small_pem);
	EVP_PKEY_free(small);

	/* an EC key is not an RSA key */
	EVP_PKEY *ec = EVP_EC_gen("P-256");
	char *ec_pem = encode_pem(ec, EVP_PKEY_PUBLIC_KEY, "SubjectPublicKeyInfo");
	assert_int_equal(craft_jwt_key_from_pem(ec_pem, strlen(ec_pem), NULL, &b, err, sizeof(err)),
			 CRAFT_EINVAL);
	free(ec_pem);
	EVP_PKEY_free(ec);

	free(pkcs1_priv);
	free(pkcs1_pub);
	EVP_PKEY_free(pkey);
}

static void test_generate(void **state)
{
	craft_jwt_key *k = NULL;
	json_t *jwk;

	(void)state;
	assert_int_equal(craft_jwt_key_generate(3072, NULL, &k), CRAFT_OK);
	assert_int_equal(craft_jwt_key_bits(k), 3072);
	assert_true(craft_jwt_key_has_private(k));
	assert_int_equal(strlen(craft_jwt_key_kid(k)), CRAFT_JWT_THUMB_KID_LEN);
	jwk = craft_jwt_key_to_jwk(k);
	assert_int_equal(strlen(json_string_value(json_object_get(jwk, "n"))), 512);
	json_decref(jwk);
	craft_jwt_key_free(k);
	k = NULL;
	assert_int_equal(craft_jwt_key_generate(2047, "x", &k), CRAFT_EINVAL);
	assert_int_equal(craft_jwt_key_generate(16384, "x", &k), CRAFT_EINVAL);
	assert_int_equal(craft_jwt_key_generate(2048, "bad\x01", &k), CRAFT_EINVAL);
	assert_null(k);
}

/* ---- many threads share one key set -------------------------------------------- */

struct worker {
	const struct fixture *f;
	const char *token;
	int failures;
};

static void *verify_many(void *arg)
{
	struct worker *w = arg;
	struct craft_jwt_verify_opts o = opts_now(NOW);

	for (int i = 0; i < 200; i++) {
		struct craft_jwt_claims c;
		if (craft_jwt_verify(w->f->set, w->token, strlen(w->token), &o, &c, NULL) !=
			CRAFT_OK ||
		    strcmp(c.sub, "alice") != 0)
			w->failures++;
		craft_jwt_claims_cleanup(&c);
	}
	return NULL;
}

static void test_threads(void **state)
{
	struct fixture *f = *state;
	char header[256], payload[256];
	char *token = make_token(f->signer, std_header(f->signer, header, sizeof(header)),
				 std_payload("", payload, sizeof(payload)));
	struct worker w[4];
	pthread_t t[4];

	for (int i = 0; i < 4; i++) {
		w[i] = (struct worker){.f = f, .token = token};
		assert_int_equal(pthread_create(&t[i], NULL, verify_many, &w[i]), 0);
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(t[i], NULL);
		assert_int_equal(w[i].failures, 0);
	}
	free(token);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_rfc7515_a2_sign),
	    cmocka_unit_test(test_rfc7515_a2_verify),
	    cmocka_unit_test(test_jwk_private_inconsistent),
	    cmocka_unit_test(test_sign_verify_round_trip),
	    cmocka_unit_test(test_sign_oversize),
	    cmocka_unit_test(test_jwks_json_round_trip),
	    cmocka_unit_test(test_jwks_add_rules),
	    cmocka_unit_test(test_jwks_skips_unusable),
	    cmocka_unit_test(test_jwks_small_key_skipped),
	    cmocka_unit_test(test_jwks_document_errors),
	    cmocka_unit_test(test_reject_algorithms),
	    cmocka_unit_test(test_reject_hs256_with_public_pem),
	    cmocka_unit_test(test_expiry_and_leeway),
	    cmocka_unit_test(test_not_before_and_issued_at),
	    cmocka_unit_test(test_tampering),
	    cmocka_unit_test(test_issuer_and_audience),
	    cmocka_unit_test(test_key_selection),
	    cmocka_unit_test(test_header_rules),
	    cmocka_unit_test(test_payload_rules),
	    cmocka_unit_test(test_structure),
	    cmocka_unit_test(test_pem_round_trip),
	    cmocka_unit_test(test_pem_formats),
	    cmocka_unit_test(test_generate),
	    cmocka_unit_test(test_threads),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
