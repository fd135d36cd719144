#include "users.h"

#include "craft/common.h"

#include <stdlib.h>

const struct craft_pg_stmt auth_users_stmts[] = {
    {.name = "users_insert",
     .sql = "INSERT INTO users (username, email, password_hash, role) "
	    "VALUES ($1, $2, $3, 'user') RETURNING id",
     .nparams = 3},
    {.name = "users_taken",
     .sql = "SELECT EXISTS (SELECT 1 FROM users WHERE lower(username) = lower($1)), "
	    "EXISTS (SELECT 1 FROM users WHERE lower(email) = lower($2))",
     .nparams = 2},
    {.name = "users_find_login",
     .sql = "SELECT id, username, email, role, password_hash FROM users "
	    "WHERE lower(username) = lower($1) OR lower(email) = lower($1) "
	    "ORDER BY (lower(username) = lower($1)) DESC LIMIT 1",
     .nparams = 1},
    {.name = "users_upsert_admin",
     .sql = "INSERT INTO users (username, email, password_hash, role) "
	    "VALUES ($1, $2, $3, 'admin') ON CONFLICT ((lower(username))) DO UPDATE "
	    "SET password_hash = EXCLUDED.password_hash, role = 'admin', updated_at = now()",
     .nparams = 3},
};
const size_t auth_users_nstmts = CRAFT_ARRAY_LEN(auth_users_stmts);

int auth_users_insert(craft_pg_pool *pg, craft_arena *arena, const craft_span *span,
		      const char *username, const char *email, const char *hash, long long *id)
{
	const char *params[] = {username, email, hash};
	PGresult *res = NULL;
	int rc = craft_pg_exec(pg, arena, span, "users_insert", 3, params, &res);
	if (rc)
		return rc;
	*id = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
	return CRAFT_OK;
}

int auth_users_taken(craft_pg_pool *pg, craft_arena *arena, const craft_span *span,
		     const char *username, const char *email, bool *username_taken,
		     bool *email_taken)
{
	const char *params[] = {username, email};
	PGresult *res = NULL;
	int rc = craft_pg_exec(pg, arena, span, "users_taken", 2, params, &res);
	if (rc)
		return rc;
	*username_taken = PQgetvalue(res, 0, 0)[0] == 't';
	*email_taken = PQgetvalue(res, 0, 1)[0] == 't';
	return CRAFT_OK;
}

int auth_users_find_login(craft_pg_pool *pg, craft_arena *arena, const craft_span *span,
			  const char *login, struct auth_user *out)
{
	const char *params[] = {login};
	PGresult *res = NULL;
	int rc = craft_pg_exec(pg, arena, span, "users_find_login", 1, params, &res);
	if (rc)
		return rc;
	if (PQntuples(res) == 0)
		return CRAFT_ENOTFOUND;
	out->id = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
	out->username = PQgetvalue(res, 0, 1);
	out->email = PQgetvalue(res, 0, 2);
	out->role = PQgetvalue(res, 0, 3);
	out->password_hash = PQgetvalue(res, 0, 4);
	return CRAFT_OK;
}

int auth_users_upsert_admin(craft_pg_pool *pg, craft_arena *arena, const craft_span *span,
			    const char *username, const char *email, const char *hash)
{
	const char *params[] = {username, email, hash};
	return craft_pg_exec(pg, arena, span, "users_upsert_admin", 3, params, NULL);
}
