/* app.h - the auth service's context and settings, shared by main and routes. */
#ifndef AUTH_APP_H
#define AUTH_APP_H

#include <pthread.h>
#include <stdbool.h>

#include "craft/pg.h"
#include "craft/redis.h"
#include "craft/service.h"
#include "craft/service_pg.h"
#include "craft/service_redis.h"
#include "craft/stop.h"
#include "craft/workq.h"

#include "bootstrap.h"
#include "gate.h"
#include "keys.h"
#include "limiter.h"
#include "tokens.h"

struct auth_config {
	const char *internal_api_key;
	const char *private_key_path;
	const char *public_key_path;
	const char *key_id;
	const char *previous_keys_dir;
	const char *next_keys_dir;
	const char *base_url;
	const char *audience;
	long token_ttl_s;
	long bcrypt_cost;
	long bcrypt_workers;
	long bcrypt_queue;
	long bcrypt_register_workers;
	long bcrypt_register_queue;
	const char *admin_username;
	const char *admin_password;
	const char *admin_email;
	long login_max_pair;
	long login_max_account;
	long login_max_client;
	long login_window_s;
	long register_max_client;
	long register_window_s;
};

struct auth_app {
	struct craft_service svc; /* first: the common handlers find it here */
	struct auth_config cfg;
	struct craft_db_config db;
	craft_pg_pool *pg;
	struct craft_cache_config cache;
	craft_redis_pool *redis;
	craft_workq *bcrypt;          /* password checks of logins */
	craft_workq *bcrypt_register; /* hashes of registrations: logins keep their share */
	struct auth_keys keys;
	struct auth_token_opts token;
	struct auth_limiter limiter;
	struct auth_gate gate;
	struct craft_jwt_verify_opts verify;
	char dummy_hash[128];      /* checked for unknown users, so both cost the same */
	char issuer[512];          /* BASE_URL without a trailing slash */
	char *jwks_doc, *oidc_doc; /* served as they are */
	size_t jwks_doc_len, oidc_doc_len;
	struct auth_bootstrap admin; /* creates the configured administrator */
};

extern const struct craft_route auth_routes[];
extern const size_t auth_nroutes;
extern const struct craft_service_link auth_links[];
extern const size_t auth_nlinks;

bool auth_health(void *app, craft_req *req, json_t *checks, json_t *health);

/* Build (and free) the JWKS and discovery documents once the keys and the
 * issuer are known. */
void auth_documents_init(struct auth_app *app);
void auth_documents_cleanup(struct auth_app *app);

#endif
