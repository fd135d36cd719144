/* jwt_internal.h - private to lib/craft/jwt.c and lib/craft/jwk.c.
 *
 * Not part of the public API (that is jwt.h): no other file includes it.
 * jwk.c (RSA keys and JWK sets) defines the helpers below; jwt.c (JWS
 * signing and JWT verification) uses them and reads the same structures.
 */
#ifndef CRAFT_JWT_INTERNAL_H
#define CRAFT_JWT_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include <openssl/evp.h>

#include "jwt.h"

/* Largest RS256 signature, in bytes. */
#define CRAFT_JWT_SIG_MAX_BYTES (CRAFT_JWT_MAX_BITS / 8)

struct craft_jwt_key {
	EVP_PKEY *pkey;
	bool has_private;
	unsigned bits;
	char kid[CRAFT_JWT_KID_MAX + 1];
};

struct craft_jwks {
	size_t count;
	craft_jwt_key *keys[CRAFT_JWKS_MAX_KEYS];
};

/* Drop OpenSSL's queued errors and return `result`. */
int craft_jwt_internal_clear_fail(int result);

/* Whether `kid` is 1..CRAFT_JWT_KID_MAX printable ASCII characters. */
bool craft_jwt_internal_kid_valid(const char *kid);

#endif /* CRAFT_JWT_INTERNAL_H */
