/* jwt.h - RS256 JSON Web Tokens, RSA keys and JWK sets on OpenSSL 3.
 *
 * The auth service signs tokens with its private key and publishes the public
 * keys as a JWK set; product and frontend verify tokens against that set.
 * Only RS256 (RSASSA-PKCS1-v1_5 with SHA-256) with RSA keys of 2048 to 8192
 * bits exists here: every other algorithm is refused by construction.
 *
 * Keys and key sets are immutable once built, so one instance may be used by
 * many threads at once (sign, verify, find, to_json). Functions that fail
 * leave the thread's OpenSSL error queue empty.
 */
#ifndef CRAFT_JWT_H
#define CRAFT_JWT_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include <jansson.h>

#define CRAFT_JWT_MAX_LEN       8192  /* longest token accepted by craft_jwt_verify */
#define CRAFT_JWT_KID_MAX       128   /* longest key id (printable ASCII) */
#define CRAFT_JWT_MIN_BITS      2048  /* smallest RSA modulus used or accepted */
#define CRAFT_JWT_MAX_BITS      8192  /* largest RSA modulus used or accepted */
#define CRAFT_JWKS_MAX_KEYS     32    /* keys in a set, and entries in a parsed document */
#define CRAFT_JWKS_MAX_LEN      65536 /* largest JWK set document parsed */
#define CRAFT_JWT_THUMB_KID_LEN 16    /* characters of a derived key id */

/* Verification failures that the common CRAFT_E* codes do not name. Malformed
 * tokens are CRAFT_EINVAL, oversize ones CRAFT_ETOOBIG, and an unknown key id
 * is CRAFT_ENOTFOUND (the caller may refresh its key set once and retry). */
enum craft_jwt_result {
	CRAFT_JWT_EALG = -100,      /* header alg is not RS256 */
	CRAFT_JWT_ESIG = -101,      /* signature does not verify */
	CRAFT_JWT_EEXPIRED = -102,  /* exp has passed */
	CRAFT_JWT_ENOTYET = -103,   /* nbf or iat lies in the future */
	CRAFT_JWT_EISSUER = -104,   /* iss differs from the configured issuer */
	CRAFT_JWT_EAUDIENCE = -105, /* the configured audience is not in aud */
	CRAFT_JWT_ECLAIMS = -106,   /* a required claim is missing or of the wrong type */
};

/* ---- keys ---------------------------------------------------------------- */

/* An RSA key (public, or private with its public half) and its key id. */
typedef struct craft_jwt_key craft_jwt_key;

/* Load a private key (PKCS#8 or PKCS#1 PEM, unencrypted) from a file of at
 * most 64 KiB. `kid` NULL or "" derives the key id with
 * craft_jwt_key_thumbprint_kid(). Returns 0 and a new key in *out, or
 * CRAFT_EIO (unreadable file), CRAFT_EINVAL (not an RSA private key, wrong
 * size, bad kid); a message goes to err (err_len bytes) when err is non-NULL. */
int craft_jwt_key_load_private_pem(const char *path, const char *kid, craft_jwt_key **out,
				   char *err, size_t err_len);

/* The same for a public key (SubjectPublicKeyInfo or PKCS#1 RSAPublicKey PEM). */
int craft_jwt_key_load_public_pem(const char *path, const char *kid, craft_jwt_key **out, char *err,
				  size_t err_len);

/* Parse a PEM key held in memory (`len` bytes, at most 64 KiB): a private key
 * when the text holds one, else a public key. Results as above. The services
 * load keys from files with the functions above; the tests build keys in
 * memory with this one. */
int craft_jwt_key_from_pem(const char *pem, size_t len, const char *kid, craft_jwt_key **out,
			   char *err, size_t err_len);

/* Build a key from a JWK object (the parser of JWK sets; the tests call it on
 * single keys): kty "RSA", n and e, and for a private key d
 * with either all or none of p, q, dp, dq, qi (checked for consistency).
 * The key id is the JWK's "kid" when present, else derived. Returns 0 and a
 * new key in *out, or CRAFT_EINVAL with a message in err. */
int craft_jwt_key_from_jwk(const json_t *jwk, craft_jwt_key **out, char *err, size_t err_len);

/* Generate a new RSA key pair of `bits` (CRAFT_JWT_MIN_BITS..CRAFT_JWT_MAX_BITS)
 * with public exponent 65537. `kid` NULL or "" derives the key id. Returns 0
 * and a new key in *out, CRAFT_EINVAL for a bad size or kid, CRAFT_EINTERNAL
 * when OpenSSL fails. */
int craft_jwt_key_generate(unsigned bits, const char *kid, craft_jwt_key **out);

/* Write the key as PEM: the private key (PKCS#8, unencrypted, mode 0600) to
 * `private_path` and the public key (SubjectPublicKeyInfo, mode 0644) to
 * `public_path`; either path may be NULL to skip it. Each file is written to
 * a temporary file in the same directory, flushed and renamed into place, so
 * readers never see half a key. Returns 0, CRAFT_EINVAL (a private path for a
 * public-only key) or CRAFT_EIO. */
int craft_jwt_key_write_pem(const craft_jwt_key *key, const char *private_path,
			    const char *public_path);

/* A new public-only key with the same modulus, exponent and kid in *out.
 * Returns 0 or CRAFT_EINTERNAL. */
int craft_jwt_key_dup_public(const craft_jwt_key *key, craft_jwt_key **out);

/* Free a key; NULL is a no-op. */
void craft_jwt_key_free(craft_jwt_key *key);

/* The key id (owned by the key), the modulus size, and whether it can sign.
 * Read by the fuzz target and the tests to check what a parse produced; the
 * services only sign and verify. */
const char *craft_jwt_key_kid(const craft_jwt_key *key);
unsigned craft_jwt_key_bits(const craft_jwt_key *key);
bool craft_jwt_key_has_private(const craft_jwt_key *key);

/* The key id used when none is configured: the first 16 characters of the
 * base64url SHA-256 of the DER SubjectPublicKeyInfo of the public key, so the
 * same key always gets the same id. Writes a NUL-terminated string to out and
 * returns 0, or CRAFT_EINTERNAL. */
int craft_jwt_key_thumbprint_kid(const craft_jwt_key *key, char out[64]);

/* The public JWK {kty:"RSA",use:"sig",kid,alg:"RS256",n,e} as a new reference. */
json_t *craft_jwt_key_to_jwk(const craft_jwt_key *key);

/* ---- JWK sets ------------------------------------------------------------ */

/* An ordered set of keys with unique key ids; the first is the current one. */
typedef struct craft_jwks craft_jwks;

/* A new empty set; never NULL. */
craft_jwks *craft_jwks_new(void);

/* Append a key; the set takes ownership of it in every case (it is freed on
 * error). Returns 0, CRAFT_ECONFLICT when the kid is already in the set,
 * CRAFT_ETOOBIG past CRAFT_JWKS_MAX_KEYS, CRAFT_EINVAL for a NULL key. */
int craft_jwks_add(craft_jwks *set, craft_jwt_key *key);

/* The set as {"keys":[JWK, ...]} in set order, public members only; a new
 * reference. */
json_t *craft_jwks_to_json(const craft_jwks *set);

/* Parse a JWK set document of `len` bytes (at most CRAFT_JWKS_MAX_LEN, at most
 * CRAFT_JWKS_MAX_KEYS entries). Entries that are not usable RS256 signature
 * keys are skipped: not an object, kty not "RSA", use present and not "sig",
 * alg present and not "RS256", no string kid (or not 1..CRAFT_JWT_KID_MAX
 * printable characters), n or e not strict base64url, a modulus outside
 * CRAFT_JWT_MIN_BITS..CRAFT_JWT_MAX_BITS, an even or one exponent. Private
 * members are never read. Returns 0 and a new set in *out; CRAFT_EINVAL for a
 * document that is not {"keys":[...]} or repeats a kid among usable keys;
 * CRAFT_ETOOBIG past the bounds; CRAFT_ENOTFOUND when no entry is usable.
 * A message goes to err on error. */
int craft_jwks_from_json(const char *text, size_t len, craft_jwks **out, char *err, size_t err_len);

/* The key with this kid, or NULL. Owned by the set. */
const craft_jwt_key *craft_jwks_find(const craft_jwks *set, const char *kid);

/* The key at position `index` (0 = current), or NULL past the end. No
 * service walks a set; the fuzz target and the tests check every key. */
const craft_jwt_key *craft_jwks_key_at(const craft_jwks *set, size_t index);

size_t craft_jwks_count(const craft_jwks *set);

/* Free the set and its keys; NULL is a no-op. */
void craft_jwks_free(craft_jwks *set);

/* ---- signing --------------------------------------------------------------- */

/* Sign `len` bytes of a JWS signing input (BASE64URL(header) "." BASE64URL
 * (payload)) with RS256 and return the base64url signature in *b64sig
 * (malloc'd, NUL-terminated). Returns 0, CRAFT_EINVAL (public-only key) or
 * CRAFT_EINTERNAL. */
int craft_jws_sign_input(const craft_jwt_key *key, const char *signing_input, size_t len,
			 char **b64sig);

/* Check a raw RS256 signature (`sig_len` bytes, exactly the modulus size)
 * over a signing input. Returns 0 or CRAFT_JWT_ESIG. */
int craft_jws_verify_input(const craft_jwt_key *key, const char *signing_input, size_t len,
			   const unsigned char *sig, size_t sig_len);

/* Make a compact JWS: header {"alg":"RS256","typ":"JWT","kid":<kid>} in that
 * order, the claims object (borrowed: the caller keeps its reference and
 * builds sub, role, iat, exp, iss, jti, aud) serialised compactly. *out is a
 * malloc'd NUL-terminated token. Returns 0, CRAFT_EINVAL (claims not an
 * object, public-only key) or CRAFT_EINTERNAL. */
int craft_jwt_sign(const craft_jwt_key *key, json_t *claims, char **out);

/* ---- verification ---------------------------------------------------------- */

struct craft_jwt_verify_opts {
	const char *issuer;   /* when non-empty, iss must equal it */
	const char *audience; /* when non-empty, aud (string or array) must hold it */
	long leeway_s;        /* clock skew allowed for exp, nbf, iat (0..600) */
	time_t now;           /* 0: time(NULL); set by tests */
	bool require_kid;     /* false: a token without kid uses a set's only key */
};

/* What a verified token says. `payload` is owned (released by
 * craft_jwt_claims_cleanup); sub and role point into it (role NULL when
 * absent); iat is 0 when absent. */
struct craft_jwt_claims {
	json_t *payload;
	const char *sub;
	const char *role;
	char kid[CRAFT_JWT_KID_MAX + 1]; /* the id of the key that verified it */
	long long iat;
	long long exp;
};

/* Verify a compact RS256 token of `len` bytes against the key set. Checks, in
 * order: size, three segments, strict base64url, header a JSON object without
 * duplicate members, alg exactly "RS256", typ (if present) "JWT" in any case,
 * no crit, kid selecting a key, the signature, then the payload (a JSON object
 * without duplicates), exp (required number), nbf and iat (if present),
 * iss and aud (when configured), sub (non-empty string), role (string if
 * present). `opts` NULL means no issuer/audience, no leeway, kid optional.
 * Returns 0 and fills *out, or a negative code (see enum craft_jwt_result)
 * with *out zeroed; *reason (when non-NULL) is always set to a short static
 * English phrase that never quotes the token. */
int craft_jwt_verify(const craft_jwks *keys, const char *token, size_t len,
		     const struct craft_jwt_verify_opts *opts, struct craft_jwt_claims *out,
		     const char **reason);

/* Release the payload and zero the struct; safe on a zeroed struct. */
void craft_jwt_claims_cleanup(struct craft_jwt_claims *c);

#endif
