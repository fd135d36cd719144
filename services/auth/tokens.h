/* tokens.h - the access tokens auth issues: RS256 JWTs with sub, role, iat,
 * exp, iss, jti, and aud only when an audience is configured. */
#ifndef AUTH_TOKENS_H
#define AUTH_TOKENS_H

#include <time.h>

#include "craft/jwt.h"

struct auth_token_opts {
	const char *issuer;   /* BASE_URL */
	const char *audience; /* JWT_AUDIENCE, "" = no aud claim */
	long ttl_s;           /* lifetime: exp = iat + ttl_s */
};

/* Sign a token for `sub` with `role` issued at `now`. *out is malloc'd.
 * Returns 0 or a craft_jwt_sign() error. */
int auth_token_issue(const craft_jwt_key *key, const struct auth_token_opts *opts, const char *sub,
		     const char *role, time_t now, char **out);

#endif
