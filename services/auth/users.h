/* users.h - auth's storage: the users table. SQL and rows only. */
#ifndef AUTH_USERS_H
#define AUTH_USERS_H

#include <stdbool.h>

#include "craft/arena.h"
#include "craft/pg.h"
#include "craft/trace.h"

struct auth_user {
	long long id;
	const char *username;
	const char *email;
	const char *role;
	const char *password_hash;
};

extern const struct craft_pg_stmt auth_users_stmts[];
extern const size_t auth_users_nstmts;

/* Insert a user with role "user". Returns 0 with *id, CRAFT_ECONFLICT when the
 * username or email is taken (the database's unique indexes decide), or a
 * craft_pg error. */
int auth_users_insert(craft_pg_pool *pg, craft_arena *arena, const craft_span *span,
		      const char *username, const char *email, const char *hash, long long *id);

/* After a conflict: which of the two is taken (both may be). */
int auth_users_taken(craft_pg_pool *pg, craft_arena *arena, const craft_span *span,
		     const char *username, const char *email, bool *username_taken,
		     bool *email_taken);

/* The user whose username or email equals `login` (case-insensitive).
 * CRAFT_ENOTFOUND when none. Strings live in the arena. */
int auth_users_find_login(craft_pg_pool *pg, craft_arena *arena, const craft_span *span,
			  const char *login, struct auth_user *out);

/* Create or update an administrator (role admin, new password hash). */
int auth_users_upsert_admin(craft_pg_pool *pg, craft_arena *arena, const craft_span *span,
			    const char *username, const char *email, const char *hash);

#endif
