/* fuzz_jwt - RS256 tokens and JWK sets (lib/craft/jwt.h).
 *
 * Two RSA keys are generated once in LLVMFuzzerInitialize. The first input
 * byte picks a mode, the rest is the input:
 *
 *   mode 0  the input is a compact token, verified against a set holding one
 *           key (a token without kid may use it); it is also parsed as a JWK
 *           set document
 *   mode 1  the same token against a set of two keys with kid required
 *   mode 2  the input is "<header JSON>\n<payload JSON>": both are encoded,
 *           signed with the first key and verified, so the header and claim
 *           checks after the signature are reachable
 *
 * Invariants: result codes come from the documented set, a reason is always
 * given, a failed verify leaves the claims zeroed, a successful one has a
 * subject, an unexpired exp and the id of a key of the set; a JWK set that
 * parses stays within its bounds and survives a to_json/from_json round trip.
 */
#include "fuzz_common.h"

#include "craft/base64url.h"
#include "craft/common.h"
#include "craft/jwt.h"

#include <jansson.h>

#define NOW    1700000000L /* fixed clock: the seeds' exp values are around it */
#define ISSUER "http://auth.craftista.test"
#define AUD    "craftista"

struct fuzz_keys {
	craft_jwks *one; /* k1 (private) */
	craft_jwks *two; /* k1 (public copy) and k2 */
	const craft_jwt_key *signer;
};

/* Built once before the first input and read-only afterwards (libFuzzer runs
 * the target on one thread). */
static struct fuzz_keys keys;

static craft_jwt_key *generate(const char *kid)
{
	craft_jwt_key *key = NULL;
	if (craft_jwt_key_generate(CRAFT_JWT_MIN_BITS, kid, &key) != CRAFT_OK)
		abort();
	return key;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	craft_jwt_key *k1 = generate("k1");
	craft_jwt_key *k1_public = NULL;
	if (craft_jwt_key_dup_public(k1, &k1_public) != CRAFT_OK)
		abort();
	keys.one = craft_jwks_new();
	keys.two = craft_jwks_new();
	if (craft_jwks_add(keys.one, k1) || craft_jwks_add(keys.two, k1_public) ||
	    craft_jwks_add(keys.two, generate("k2")))
		abort();
	keys.signer = craft_jwks_find(keys.one, "k1");
	return 0;
}

static bool known_result(int rc)
{
	return rc == CRAFT_OK || rc == CRAFT_EINVAL || rc == CRAFT_ETOOBIG ||
	       rc == CRAFT_ENOTFOUND || (rc <= CRAFT_JWT_EALG && rc >= CRAFT_JWT_ECLAIMS);
}

static void verify(const craft_jwks *set, const char *token, size_t len, bool require_kid)
{
	struct craft_jwt_verify_opts opts = {.issuer = ISSUER,
					     .audience = AUD,
					     .leeway_s = 30,
					     .now = NOW,
					     .require_kid = require_kid};
	struct craft_jwt_claims claims;
	const char *reason = NULL;

	memset(&claims, 0x5a, sizeof(claims));
	int rc = craft_jwt_verify(set, token, len, &opts, &claims, &reason);
	fuzz_require(known_result(rc), "verify result code");
	fuzz_require(reason && reason[0], "verify always gives a reason");
	if (rc != CRAFT_OK) {
		static const char no_kid[sizeof(claims.kid)];
		fuzz_require(!claims.payload && !claims.sub && !claims.role && !claims.iat &&
				 !claims.exp && memcmp(claims.kid, no_kid, sizeof(no_kid)) == 0,
			     "failed verify zeroes the claims");
		return;
	}
	fuzz_require(json_is_object(claims.payload), "claims payload is an object");
	fuzz_require(claims.sub && claims.sub[0], "verified token has a subject");
	fuzz_require(claims.exp + opts.leeway_s >= NOW, "verified token is not expired");
	fuzz_require(craft_jwks_find(set, claims.kid) != NULL, "verifying key is in the set");
	craft_jwt_claims_cleanup(&claims);
}

/* Parse the input as a JWK set; one that parses must survive a round trip. */
static void check_jwks(const char *text, size_t len)
{
	craft_jwks *set = NULL, *again = NULL;
	char err[256];

	int rc = craft_jwks_from_json(text, len, &set, err, sizeof(err));
	fuzz_require(rc == CRAFT_OK || rc == CRAFT_EINVAL || rc == CRAFT_ETOOBIG ||
			 rc == CRAFT_ENOTFOUND,
		     "jwks result code");
	if (rc != CRAFT_OK)
		return;
	size_t n = craft_jwks_count(set);
	fuzz_require(n >= 1 && n <= CRAFT_JWKS_MAX_KEYS, "jwks key count bounds");
	json_t *doc = craft_jwks_to_json(set);
	char *dumped = json_dumps(doc, JSON_COMPACT);
	fuzz_require(dumped != NULL, "jwks serialises");
	fuzz_require(craft_jwks_from_json(dumped, strlen(dumped), &again, err, sizeof(err)) ==
			 CRAFT_OK,
		     "serialised jwks parses again");
	fuzz_require(craft_jwks_count(again) == n, "jwks round trip keeps every key");
	for (size_t i = 0; i < n; i++) {
		const craft_jwt_key *a = craft_jwks_key_at(set, i);
		const craft_jwt_key *b = craft_jwks_key_at(again, i);
		size_t kid_len = strlen(craft_jwt_key_kid(a));
		fuzz_require(kid_len >= 1 && kid_len <= CRAFT_JWT_KID_MAX, "kid length bounds");
		fuzz_require(craft_jwt_key_bits(a) >= CRAFT_JWT_MIN_BITS &&
				 craft_jwt_key_bits(a) <= CRAFT_JWT_MAX_BITS,
			     "key size bounds");
		fuzz_require(!craft_jwt_key_has_private(a), "parsed keys are public");
		fuzz_require(strcmp(craft_jwt_key_kid(a), craft_jwt_key_kid(b)) == 0 &&
				 craft_jwt_key_bits(a) == craft_jwt_key_bits(b),
			     "jwks round trip keeps order, kids and sizes");
	}
	free(dumped);
	json_decref(doc);
	craft_jwks_free(again);
	craft_jwks_free(set);
}

/* Encode header and payload, sign with k1 and verify against the one-key set. */
static void sign_and_verify(const char *text, size_t len)
{
	const char *nl = memchr(text, '\n', len);
	if (!nl)
		return;
	size_t head_len = (size_t)(nl - text);
	char *head = craft_base64url_encode_alloc(text, head_len);
	char *body = craft_base64url_encode_alloc(nl + 1, len - head_len - 1);
	size_t input_len = strlen(head) + 1 + strlen(body);
	char *input = malloc(input_len + 1);
	char *sig = NULL;
	if (!input)
		abort();
	snprintf(input, input_len + 1, "%s.%s", head, body);
	fuzz_require(craft_jws_sign_input(keys.signer, input, input_len, &sig) == CRAFT_OK,
		     "signing works");
	size_t token_len = input_len + 1 + strlen(sig);
	char *token = malloc(token_len + 1);
	if (!token)
		abort();
	snprintf(token, token_len + 1, "%s.%s", input, sig);
	verify(keys.one, token, token_len, false);
	free(token);
	free(sig);
	free(input);
	free(body);
	free(head);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	const char *text = (const char *)data + 1;
	size_t len = size - 1;

	switch (data[0] % 3) {
	case 0:
		verify(keys.one, text, len, false);
		check_jwks(text, len);
		break;
	case 1: verify(keys.two, text, len, true); break;
	default: sign_and_verify(text, len); break;
	}
	return 0;
}
