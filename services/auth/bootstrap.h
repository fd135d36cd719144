/* bootstrap.h - the configured administrator (ADMIN_USERNAME, ADMIN_PASSWORD,
 * ADMIN_EMAIL): its settings checked at start, then created or updated by a
 * thread of its own, so that start-up never waits for the database. Domain
 * logic over the users table; knows nothing of HTTP. */
#ifndef AUTH_BOOTSTRAP_H
#define AUTH_BOOTSTRAP_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

#include "craft/pg.h"
#include "craft/stop.h"

struct auth_admin_settings {
	const char *username; /* "" with password "": no administrator */
	const char *password;
	const char *email; /* "": <username>@craftista.local */
	int bcrypt_cost;
};

struct auth_bootstrap {
	craft_pg_pool *pg;
	struct auth_admin_settings admin; /* borrowed strings */
	pthread_t thread;
	struct craft_stop stop; /* ends the retries at shutdown */
	bool started;
};

/* 0 when the settings are usable (both empty, or a valid username, password
 * and optional email); else CRAFT_EINVAL with the setting to fix in err. */
int auth_bootstrap_check(const struct auth_admin_settings *s, char *err, size_t err_len);

/* Prepare `b` (always; auth_bootstrap_stop() cleans up in every case). */
void auth_bootstrap_init(struct auth_bootstrap *b);

/* When an administrator is configured, start the thread that creates or
 * updates it: retried every second while the database cannot be reached,
 * until it succeeds, two minutes pass or auth_bootstrap_stop() is called.
 * Outcomes are logged (never the password). 0, or CRAFT_EIO when the thread
 * cannot start (the service runs without it). */
int auth_bootstrap_start(struct auth_bootstrap *b, craft_pg_pool *pg,
			 const struct auth_admin_settings *s);

/* Stop the retries, wait for the thread and free what init prepared. */
void auth_bootstrap_stop(struct auth_bootstrap *b);

#endif
