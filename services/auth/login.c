#include "login.h"

#include "craft/common.h"

#include "password.h"
#include "validate.h"

#include <string.h>

int auth_login_begin(const struct auth_login_rules *r, craft_arena *arena, const craft_span *span,
		     const char *name, const char *password, const char *client,
		     struct auth_login_attempt *out, long *retry_after)
{
	*out = (struct auth_login_attempt){.password = password,
					   .too_long = strlen(password) > AUTH_PASSWORD_MAX};
	int rc = auth_gate_login(r->gate, arena, span, name, client, &out->login, retry_after);
	if (rc)
		return rc;
	/* Unknown users cost one bcrypt too, so timing does not tell who exists. */
	out->stored = out->login.user_found ? out->login.user.password_hash : r->dummy_hash;
	return CRAFT_OK;
}

void auth_login_check(struct auth_login_attempt *at)
{
	at->match = auth_password_check(at->password, at->stored);
}

int auth_login_finish(const struct auth_login_rules *r, craft_arena *arena, const craft_span *span,
		      struct auth_login_attempt *at, time_t now, char **token)
{
	if (!at->match || !at->login.user_found || at->too_long) {
		auth_gate_login_failed(r->gate, arena, span, &at->login);
		return CRAFT_EINVAL;
	}
	auth_gate_login_succeeded(r->gate, arena, span, &at->login);
	if (auth_token_issue(r->key, r->token, at->login.user.username, at->login.user.role, now,
			     token) != CRAFT_OK)
		return CRAFT_EINTERNAL;
	return CRAFT_OK;
}
