#include "bootstrap.h"

#include "craft/arena.h"
#include "craft/common.h"
#include "craft/log.h"

#include "password.h"
#include "users.h"
#include "validate.h"

#include <stdio.h>

#define ATTEMPTS    120 /* one a second: two minutes */
#define RETRY_EVERY 1000

int auth_bootstrap_check(const struct auth_admin_settings *s, char *err, size_t err_len)
{
	if (!s->username[0] && !s->password[0])
		return CRAFT_OK;
	const char *problem = NULL;
	if (!s->username[0] || !s->password[0])
		problem = "ADMIN_USERNAME and ADMIN_PASSWORD must be set together";
	else if (auth_check_username(s->username))
		problem =
		    "ADMIN_USERNAME must be 3-50 characters of letters, digits, '_', '.', '-'";
	else if (auth_check_password(s->password))
		problem = "ADMIN_PASSWORD must be 8-72 bytes";
	else if (s->email[0] && auth_check_email(s->email))
		problem = "ADMIN_EMAIL must be a valid address";
	if (!problem)
		return CRAFT_OK;
	snprintf(err, err_len, "%s", problem);
	return CRAFT_EINVAL;
}

/* One attempt at the upsert; its result. */
static int upsert(struct auth_bootstrap *b, const char *email, const char *hash)
{
	craft_arena *arena = craft_arena_new(0);
	int rc = auth_users_upsert_admin(b->pg, arena, NULL, b->admin.username, email, hash);
	craft_arena_free(arena);
	return rc;
}

static void *run(void *arg)
{
	struct auth_bootstrap *b = arg;
	const struct auth_admin_settings *s = &b->admin;
	char hash[AUTH_HASH_MAX];
	if (auth_password_hash(s->password, s->bcrypt_cost, hash) != CRAFT_OK) {
		craft_log(CRAFT_LOG_ERROR, NULL, "cannot hash the administrator password", NULL);
		return NULL;
	}
	char email[160];
	if (s->email[0])
		snprintf(email, sizeof(email), "%s", s->email);
	else
		snprintf(email, sizeof(email), "%s@craftista.local", s->username);
	for (int attempt = 0; attempt < ATTEMPTS; attempt++) {
		if (attempt > 0 && craft_stop_wait(&b->stop, RETRY_EVERY))
			return NULL; /* shutting down */
		int rc = upsert(b, email, hash);
		if (rc == CRAFT_OK) {
			craft_log(CRAFT_LOG_INFO, NULL, "administrator ready", "{s:s}", "username",
				  s->username);
			return NULL;
		}
		if (rc != CRAFT_EUNAVAIL && rc != CRAFT_ETIMEOUT) {
			craft_log(CRAFT_LOG_ERROR, NULL, "cannot create the administrator",
				  "{s:s, s:s}", "username", s->username, "error",
				  rc == CRAFT_ECONFLICT ? "email already used by another user"
							: craft_strerror(rc));
			return NULL;
		}
	}
	craft_log(CRAFT_LOG_ERROR, NULL, "gave up creating the administrator: database down", NULL);
	return NULL;
}

void auth_bootstrap_init(struct auth_bootstrap *b)
{
	*b = (struct auth_bootstrap){0};
	craft_stop_init(&b->stop);
}

int auth_bootstrap_start(struct auth_bootstrap *b, craft_pg_pool *pg,
			 const struct auth_admin_settings *s)
{
	if (!s->username[0])
		return CRAFT_OK;
	b->pg = pg;
	b->admin = *s;
	if (pthread_create(&b->thread, NULL, run, b) != 0)
		return CRAFT_EIO;
	b->started = true;
	return CRAFT_OK;
}

void auth_bootstrap_stop(struct auth_bootstrap *b)
{
	if (b->started) {
		craft_stop_request(&b->stop);
		pthread_join(b->thread, NULL);
		b->started = false;
	}
	craft_stop_cleanup(&b->stop);
}
