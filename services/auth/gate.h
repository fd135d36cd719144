/* gate.h - whether a login or a registration may go on to bcrypt: the
 * decisions taken before a password is checked or hashed, and what a login's
 * outcome counts. Domain logic over the users table and the limiter; knows
 * nothing of HTTP. */
#ifndef AUTH_GATE_H
#define AUTH_GATE_H

#include <stdbool.h>

#include "craft/arena.h"
#include "craft/pg.h"
#include "craft/trace.h"

#include "limiter.h"
#include "users.h"

struct auth_gate {
	craft_pg_pool *pg;
	struct auth_limiter *limiter;
};

/* A login attempt on its way through the gate. */
struct auth_login {
	const char *client;  /* the client address the limiter counts */
	const char *account; /* the limiter's name for the account */
	struct auth_user user;
	bool user_found;
};

/* Resolve `name` (a username or an email, any case) to its user, then ask the
 * limiter about that account from `client`. Returns 0 when the password is to
 * be checked (against out->user when out->user_found); CRAFT_EINVAL when no
 * account can bear that name (refuse it as invalid credentials: the failure
 * is already counted against the client, and no bcrypt is needed);
 * CRAFT_ETOOBIG with the seconds to wait in *retry_after; or a craft_pg
 * error. Strings in *out live in the arena. */
int auth_gate_login(const struct auth_gate *g, craft_arena *arena, const craft_span *span,
		    const char *name, const char *client, struct auth_login *out,
		    long *retry_after);

/* Count a wrong password (or an unknown user) for this login. */
void auth_gate_login_failed(const struct auth_gate *g, craft_arena *arena, const craft_span *span,
			    const struct auth_login *login);

/* Clear this account's failures from this client after a right password. */
void auth_gate_login_succeeded(const struct auth_gate *g, craft_arena *arena,
			       const craft_span *span, const struct auth_login *login);

/* Count a registration attempt from `client`, then look whether the username
 * or the email is taken, so that a taken one costs no bcrypt. Returns 0 to go
 * on and hash; CRAFT_ETOOBIG with *retry_after past the client's quota;
 * CRAFT_ECONFLICT with *taken_field "username" or "email"; or a craft_pg
 * error. */
int auth_gate_register(const struct auth_gate *g, craft_arena *arena, const craft_span *span,
		       const char *username, const char *email, const char *client,
		       const char **taken_field, long *retry_after);

/* Which of the two is taken after an INSERT lost a race: "username" (also
 * when both are, or when the lookup fails) or "email". */
const char *auth_gate_taken_field(const struct auth_gate *g, craft_arena *arena,
				  const craft_span *span, const char *username, const char *email);

#endif
