/* main.c - auth: read config, load keys, build dependencies, serve (the
 * administrator bootstrap lives in bootstrap.c). */
#include "app.h"

#include "craft/common.h"
#include "craft/config.h"
#include "craft/log.h"

#include "password.h"
#include "users.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define FIELD(member) offsetof(struct auth_config, member)

static const struct craft_config_field auth_fields[] = {
    {.name = "INTERNAL_API_KEY",
     .type = CRAFT_CONFIG_STR,
     .default_value = "craftista-dev-internal-key",
     .min = 16,
     .max = 512,
     .secret = true,
     .offset = FIELD(internal_api_key),
     .help = "shared secret callers of /api/auth/register must send"},
    {.name = "RSA_PRIVATE_KEY_PATH",
     .type = CRAFT_CONFIG_STR,
     .default_value = "var/keys/private.pem",
     .min = 1,
     .max = 4000,
     .offset = FIELD(private_key_path),
     .help = "PEM file of the signing key"},
    {.name = "RSA_PUBLIC_KEY_PATH",
     .type = CRAFT_CONFIG_STR,
     .default_value = "var/keys/public.pem",
     .min = 1,
     .max = 4000,
     .offset = FIELD(public_key_path),
     .help = "PEM file of its public key"},
    {.name = "PRODUCT_KEY_ID",
     .type = CRAFT_CONFIG_STR,
     .default_value = "craftista-key-1",
     .min = 1,
     .max = 128,
     .offset = FIELD(key_id),
     .help = "kid of the signing key"},
    {.name = "RSA_PREVIOUS_KEYS_DIR",
     .type = CRAFT_CONFIG_STR,
     .default_value = "",
     .max = 4000,
     .offset = FIELD(previous_keys_dir),
     .help = "directory of <kid>.pem public keys still accepted after a rotation"},
    {.name = "RSA_NEXT_KEYS_DIR",
     .type = CRAFT_CONFIG_STR,
     .default_value = "",
     .max = 4000,
     .offset = FIELD(next_keys_dir),
     .help = "directory of <kid>.pem public keys published before signing with them"},
    {.name = "BASE_URL",
     .type = CRAFT_CONFIG_STR,
     .default_value = "http://localhost:8082",
     .min = 1,
     .max = 400,
     .offset = FIELD(base_url),
     .help = "issuer URL of this service"},
    {.name = "JWT_AUDIENCE",
     .type = CRAFT_CONFIG_STR,
     .default_value = "",
     .max = 256,
     .offset = FIELD(audience),
     .help = "aud claim of issued tokens; empty = none"},
    {.name = "TOKEN_TTL_SECONDS",
     .type = CRAFT_CONFIG_INT,
     .default_value = "3600",
     .min = 60,
     .max = 86400,
     .offset = FIELD(token_ttl_s),
     .help = "token lifetime"},
    {.name = "BCRYPT_COST",
     .type = CRAFT_CONFIG_INT,
     .default_value = "12",
     .min = AUTH_BCRYPT_COST_MIN,
     .max = AUTH_BCRYPT_COST_MAX,
     .offset = FIELD(bcrypt_cost),
     .help = "bcrypt work factor"},
    {.name = "BCRYPT_WORKERS",
     .type = CRAFT_CONFIG_INT,
     .default_value = "0",
     .min = 0,
     .max = 64,
     .offset = FIELD(bcrypt_workers),
     .help = "threads that hash passwords, 0 = one per core"},
    {.name = "BCRYPT_QUEUE",
     .type = CRAFT_CONFIG_INT,
     .default_value = "256",
     .min = 1,
     .max = 100000,
     .offset = FIELD(bcrypt_queue),
     .help = "password checks that may wait; more are refused with 503"},
    {.name = "BCRYPT_REGISTER_WORKERS",
     .type = CRAFT_CONFIG_INT,
     .default_value = "1",
     .min = 1,
     .max = 64,
     .offset = FIELD(bcrypt_register_workers),
     .help = "threads that hash the passwords of registrations, apart from logins"},
    {.name = "BCRYPT_REGISTER_QUEUE",
     .type = CRAFT_CONFIG_INT,
     .default_value = "16",
     .min = 1,
     .max = 100000,
     .offset = FIELD(bcrypt_register_queue),
     .help = "registrations that may wait for a hash; more are refused with 503"},
    {.name = "ADMIN_USERNAME",
     .type = CRAFT_CONFIG_STR,
     .default_value = "",
     .max = 50,
     .offset = FIELD(admin_username),
     .help = "administrator created or updated at start"},
    {.name = "ADMIN_PASSWORD",
     .type = CRAFT_CONFIG_STR,
     .default_value = "",
     .max = 72,
     .secret = true,
     .offset = FIELD(admin_password),
     .help = "its password"},
    {.name = "ADMIN_EMAIL",
     .type = CRAFT_CONFIG_STR,
     .default_value = "",
     .max = 100,
     .offset = FIELD(admin_email),
     .help = "its email (default <username>@craftista.local)"},
    {.name = "LOGIN_MAX_FAILURES",
     .type = CRAFT_CONFIG_INT,
     .default_value = "5",
     .min = 1,
     .max = 1000,
     .offset = FIELD(login_max_pair),
     .help = "failed logins per account from one client before waits (429)"},
    {.name = "LOGIN_MAX_FAILURES_PER_ACCOUNT",
     .type = CRAFT_CONFIG_INT,
     .default_value = "50",
     .min = 1,
     .max = 1000000,
     .offset = FIELD(login_max_account),
     .help = "failed logins per account from all clients before waits (429)"},
    {.name = "LOGIN_MAX_FAILURES_PER_CLIENT",
     .type = CRAFT_CONFIG_INT,
     .default_value = "20",
     .min = 1,
     .max = 100000,
     .offset = FIELD(login_max_client),
     .help = "failed logins per client address across accounts before waits (429)"},
    {.name = "LOGIN_WINDOW_SECONDS",
     .type = CRAFT_CONFIG_INT,
     .default_value = "300",
     .min = 1,
     .max = 86400,
     .offset = FIELD(login_window_s),
     .help = "longest wait after failed logins; quiet time before they are forgotten"},
    {.name = "REGISTER_MAX_PER_CLIENT",
     .type = CRAFT_CONFIG_INT,
     .default_value = "10",
     .min = 1,
     .max = 1000000,
     .offset = FIELD(register_max_client),
     .help = "registrations per client address per window before 429"},
    {.name = "REGISTER_WINDOW_SECONDS",
     .type = CRAFT_CONFIG_INT,
     .default_value = "3600",
     .min = 1,
     .max = 86400,
     .offset = FIELD(register_window_s),
     .help = "window of the registration counters"},
};

static unsigned cores(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	return n > 0 ? (unsigned)n : 2u;
}

/* The ADMIN_* settings as the bootstrap takes them. */
static struct auth_admin_settings admin_settings(const struct auth_config *c)
{
	return (struct auth_admin_settings){.username = c->admin_username,
					    .password = c->admin_password,
					    .email = c->admin_email,
					    .bcrypt_cost = (int)c->bcrypt_cost};
}

static void collect_queue(void *ctx, double *v)
{
	struct craft_workq_stats st;
	craft_workq_stats(ctx, &st);
	v[0] = st.queued + st.running;
	v[1] = (double)st.rejected;
	v[2] = (double)st.completed;
}

/* Start one bcrypt queue and publish <prefix>_pending, <prefix>_rejected_total
 * and <prefix>_completed_total; `what` names its jobs in the help texts. */
static int start_queue(struct auth_app *app, unsigned workers, unsigned max_queue,
		       const char *prefix, const char *what, craft_workq **out)
{
	int rc = craft_workq_new(workers, max_queue, out);
	if (rc)
		return rc;
	char name[3][96], help[3][160];
	snprintf(name[0], sizeof(name[0]), "%s_pending", prefix);
	snprintf(help[0], sizeof(help[0]), "%s queued or running", what);
	snprintf(name[1], sizeof(name[1]), "%s_rejected_total", prefix);
	snprintf(help[1], sizeof(help[1]), "%s refused because the queue was full", what);
	snprintf(name[2], sizeof(name[2]), "%s_completed_total", prefix);
	snprintf(help[2], sizeof(help[2]), "%s done", what);
	const struct craft_metric_desc descs[] = {
	    {name[0], help[0], CRAFT_METRIC_GAUGE},
	    {name[1], help[1], CRAFT_METRIC_COUNTER},
	    {name[2], help[2], CRAFT_METRIC_COUNTER},
	};
	craft_metrics_add_collector(app->svc.metrics, descs, CRAFT_ARRAY_LEN(descs), collect_queue,
				    *out);
	return CRAFT_OK;
}

/* Logins and registrations hash on queues of their own, so that a flood of
 * registrations can never take the whole of the hashing from logins. */
static int start_bcrypt(struct auth_app *app, char *err, size_t err_len)
{
	const struct auth_config *c = &app->cfg;
	unsigned workers = c->bcrypt_workers ? (unsigned)c->bcrypt_workers : cores();
	if (start_queue(app, workers, (unsigned)c->bcrypt_queue, "craft_auth_bcrypt",
			"Password checks of logins", &app->bcrypt) ||
	    start_queue(app, (unsigned)c->bcrypt_register_workers,
			(unsigned)c->bcrypt_register_queue, "craft_auth_bcrypt_register",
			"Password hashes of registrations", &app->bcrypt_register)) {
		snprintf(err, err_len, "cannot start the bcrypt workers");
		return CRAFT_EIO;
	}
	return CRAFT_OK;
}

static int setup(void *ctx, char *err, size_t err_len)
{
	struct auth_app *app = ctx;
	struct auth_config *c = &app->cfg;
	auth_bootstrap_init(&app->admin); /* teardown cleans it up in every case */
	int rc = craft_service_load_config(&app->svc, auth_fields, CRAFT_ARRAY_LEN(auth_fields), c,
					   err, err_len);
	struct auth_admin_settings admin = admin_settings(c);
	if (rc || (rc = auth_bootstrap_check(&admin, err, err_len)))
		return rc;
	snprintf(app->issuer, sizeof(app->issuer), "%s", c->base_url);
	size_t n = strlen(app->issuer);
	while (n > 0 && app->issuer[n - 1] == '/')
		app->issuer[--n] = '\0';
	struct auth_keys_options ko = {
	    .private_path = c->private_key_path,
	    .public_path = c->public_key_path,
	    .kid = c->key_id,
	    .next_dir = c->next_keys_dir,
	    .previous_dir = c->previous_keys_dir,
	    .generate_if_missing = app->svc.config.development,
	    .generate_bits = 2048,
	};
	if ((rc = auth_keys_load(&ko, &app->keys, err, err_len)))
		return rc;
	auth_documents_init(app);
	app->token = (struct auth_token_opts){
	    .issuer = app->issuer, .audience = c->audience, .ttl_s = c->token_ttl_s};
	app->verify = (struct craft_jwt_verify_opts){
	    .issuer = app->issuer, .audience = c->audience, .leeway_s = 30, .require_kid = false};
	if (auth_password_dummy((int)c->bcrypt_cost, app->dummy_hash) != CRAFT_OK) {
		snprintf(err, err_len, "bcrypt is not available (libxcrypt)");
		return CRAFT_EINTERNAL;
	}
	if ((rc = start_bcrypt(app, err, err_len)))
		return rc;
	if ((rc = craft_service_open_db(&app->svc, &app->db, auth_users_stmts, auth_users_nstmts,
					"001", &app->pg, err, err_len)))
		return rc;
	if ((rc = craft_service_open_cache(&app->svc, &app->cache, auth_limiter_scripts,
					   auth_limiter_nscripts, &app->redis, err, err_len)))
		return rc;
	app->limiter = (struct auth_limiter){.redis = app->redis,
					     .max_pair = c->login_max_pair,
					     .max_account = c->login_max_account,
					     .max_client = c->login_max_client,
					     .window_s = c->login_window_s,
					     .register_max = c->register_max_client,
					     .register_window_s = c->register_window_s};
	app->gate = (struct auth_gate){.pg = app->pg, .limiter = &app->limiter};
	auth_bootstrap_start(&app->admin, app->pg, &admin);
	return CRAFT_OK;
}

static void teardown(void *ctx)
{
	struct auth_app *app = ctx;
	auth_bootstrap_stop(&app->admin);
	craft_workq_free(app->bcrypt);
	craft_workq_free(app->bcrypt_register);
	if (app->redis)
		craft_service_close_cache(&app->cache, app->redis);
	if (app->pg)
		craft_service_close_db(&app->db, app->pg);
	auth_documents_cleanup(app);
	auth_keys_cleanup(&app->keys);
	craft_config_free(auth_fields, CRAFT_ARRAY_LEN(auth_fields), &app->cfg);
}

int main(void)
{
	static struct auth_app app = {
	    .svc = {.name = "auth",
		    .title = "Authentication service",
		    .description = "Registers users, checks passwords with bcrypt and issues "
				   "RS256 access tokens; publishes its keys as a JWK set.",
		    .health = auth_health},
	};
	app.svc.links = auth_links;
	app.svc.nlinks = auth_nlinks;
	const struct craft_service_def def = {.default_port = 8082,
					      .routes = auth_routes,
					      .nroutes = auth_nroutes,
					      .setup = setup,
					      .teardown = teardown};
	return craft_service_main(&app.svc, &app, &def);
}
