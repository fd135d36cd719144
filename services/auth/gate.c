#include "gate.h"

#include "craft/common.h"

#include "validate.h"

int auth_gate_login(const struct auth_gate *g, craft_arena *arena, const craft_span *span,
		    const char *name, const char *client, struct auth_login *out, long *retry_after)
{
	*out = (struct auth_login){.client = client};
	if (!auth_login_name_possible(name)) {
		/* no bcrypt and no account: only the client's count grows */
		if (auth_limiter_check(g->limiter, arena, span, NULL, client, retry_after))
			return CRAFT_ETOOBIG;
		auth_limiter_failure(g->limiter, arena, span, NULL, client);
		return CRAFT_EINVAL;
	}
	int rc = auth_users_find_login(g->pg, arena, span, name, &out->user);
	if (rc && rc != CRAFT_ENOTFOUND)
		return rc;
	out->user_found = rc == CRAFT_OK;
	/* every spelling of a user is one account; unknown names count as typed */
	out->account = auth_limiter_account(arena, out->user_found ? out->user.id : 0, name);
	if (auth_limiter_check(g->limiter, arena, span, out->account, client, retry_after))
		return CRAFT_ETOOBIG;
	return CRAFT_OK;
}

void auth_gate_login_failed(const struct auth_gate *g, craft_arena *arena, const craft_span *span,
			    const struct auth_login *login)
{
	auth_limiter_failure(g->limiter, arena, span, login->account, login->client);
}

void auth_gate_login_succeeded(const struct auth_gate *g, craft_arena *arena,
			       const craft_span *span, const struct auth_login *login)
{
	auth_limiter_success(g->limiter, arena, span, login->account, login->client);
}

static int taken(const struct auth_gate *g, craft_arena *arena, const craft_span *span,
		 const char *username, const char *email, const char **field)
{
	bool user_taken = false, email_taken = false;
	int rc = auth_users_taken(g->pg, arena, span, username, email, &user_taken, &email_taken);
	if (rc)
		return rc;
	*field = user_taken ? "username" : email_taken ? "email" : NULL;
	return CRAFT_OK;
}

int auth_gate_register(const struct auth_gate *g, craft_arena *arena, const craft_span *span,
		       const char *username, const char *email, const char *client,
		       const char **taken_field, long *retry_after)
{
	if (auth_limiter_register(g->limiter, arena, span, client, retry_after))
		return CRAFT_ETOOBIG;
	*taken_field = NULL;
	int rc = taken(g, arena, span, username, email, taken_field);
	if (rc)
		return rc;
	return *taken_field ? CRAFT_ECONFLICT : CRAFT_OK;
}

const char *auth_gate_taken_field(const struct auth_gate *g, craft_arena *arena,
				  const craft_span *span, const char *username, const char *email)
{
	const char *field = NULL;
	if (taken(g, arena, span, username, email, &field) || !field)
		return "username";
	return field;
}
