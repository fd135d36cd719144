/* login.h - auth's login flow as domain rules, in three steps so that the
 * slow one can run on a worker queue:
 *
 *   1. auth_login_begin: resolve the name, ask the gate (rate limits), and
 *      pick the hash to check: the user's, or a stand-in for an unknown
 *      user, so that timing does not tell who exists;
 *   2. auth_login_check: bcrypt (slow: never on a server thread);
 *   3. auth_login_finish: count the outcome with the limiter and issue the
 *      token for a right password.
 *
 * Knows nothing of HTTP. */
#ifndef AUTH_LOGIN_H
#define AUTH_LOGIN_H

#include <stdbool.h>
#include <time.h>

#include "craft/arena.h"
#include "craft/jwt.h"
#include "craft/trace.h"

#include "gate.h"
#include "tokens.h"

/* What the flow works with (borrowed; outlives every attempt). */
struct auth_login_rules {
	const struct auth_gate *gate;
	const char *dummy_hash; /* auth_password_dummy() at the configured cost */
	const craft_jwt_key *key;
	const struct auth_token_opts *token;
};

/* One login across the three steps. */
struct auth_login_attempt {
	struct auth_login login;
	const char *password;
	const char *stored; /* the hash step 2 checks against */
	bool too_long;      /* longer than bcrypt reads: never a match */
	bool match;         /* set by step 2 */
};

/* Step 1. Returns 0 when the password is to be checked (step 2);
 * CRAFT_EINVAL when no account can bear that name (invalid credentials, no
 * bcrypt needed, already counted); CRAFT_ETOOBIG with the seconds to wait in
 * *retry_after; or a craft_pg error. `name`, `password` and `client` are
 * borrowed for the life of the attempt; strings it adds live in the arena. */
int auth_login_begin(const struct auth_login_rules *r, craft_arena *arena, const craft_span *span,
		     const char *name, const char *password, const char *client,
		     struct auth_login_attempt *out, long *retry_after);

/* Step 2: bcrypt the password against the stored hash; sets at->match. */
void auth_login_check(struct auth_login_attempt *at);

/* Step 3, at time `now`. Returns 0 with a token for the user in *token
 * (malloc'd); CRAFT_EINVAL for
 * invalid credentials (counted as a failure); CRAFT_EINTERNAL when the token
 * cannot be signed. */
int auth_login_finish(const struct auth_login_rules *r, craft_arena *arena, const craft_span *span,
		      struct auth_login_attempt *at, time_t now, char **token);

#endif
