/* keys.h - auth's signing key and the JWK set it publishes.
 *
 * The current key pair comes from PEM files. In development a missing pair
 * is generated once (under an exclusive lock, so replicas starting together
 * agree on one pair) and kept; elsewhere it is an error. The JWK set lists
 * the current key first, then the next keys (one `<kid>.pem` public key per
 * file in a directory: published before any replica signs with them, so every
 * verifier knows a key before it meets a token signed with it), then the
 * previous keys (same form: tokens signed before a rotation keep verifying
 * until they expire). */
#ifndef AUTH_KEYS_H
#define AUTH_KEYS_H

#include <stdbool.h>
#include <stddef.h>

#include "craft/jwt.h"

struct auth_keys {
	craft_jwt_key *signing; /* private, kid = PRODUCT_KEY_ID */
	craft_jwks *jwks;       /* current public key first, then next, then previous */
};

struct auth_keys_options {
	const char *private_path;
	const char *public_path;
	const char *kid;
	const char *next_dir;     /* "" or NULL: none */
	const char *previous_dir; /* "" or NULL: none */
	bool generate_if_missing;
	unsigned generate_bits;
};

/* Returns 0, or CRAFT_EINVAL/CRAFT_ENOTFOUND/CRAFT_EIO with a message naming
 * the setting and path in err. */
int auth_keys_load(const struct auth_keys_options *opts, struct auth_keys *out, char *err,
		   size_t err_len);
void auth_keys_cleanup(struct auth_keys *keys);

#endif
