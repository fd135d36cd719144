/* routes.c - auth's HTTP handlers: parse and check input, call the domain
 * (the login flow of login.h, passwords on the bcrypt queue, users in
 * PostgreSQL), render JSON. */
#include "app.h"

#include "craft/common.h"
#include "craft/log.h"

#include "login.h"
#include "password.h"
#include "users.h"
#include "validate.h"

#include <openssl/crypto.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define BEARER "Bearer " /* the scheme of an Authorization header */

/* One bcrypt run, hashing or checking, done on a worker queue. */
struct bcrypt_job {
	struct auth_app *app;
	craft_req *req;
	struct auth_login_attempt *login; /* a login's check; NULL: hash `password` */
	const char *password;
	char hash[AUTH_HASH_MAX];
	int rc;
	bool rejected; /* the queue was full */
	bool stopping; /* given up: the service is shutting down */
	/* what a registration's continuation needs */
	const char *username;
	const char *email;
};

static void run_bcrypt(void *arg)
{
	struct bcrypt_job *j = arg;
	if (craft_req_stopping(j->req))
		j->stopping = true; /* the drain must not wait for every queued hash */
	else if (j->login)
		auth_login_check(j->login);
	else
		j->rc = auth_password_hash(j->password, (int)j->app->cfg.bcrypt_cost, j->hash);
	craft_req_resume(j->req);
}

/* Hand the job to a bcrypt queue; `then` replies when it is done. */
static void start_bcrypt(craft_req *req, craft_workq *queue, struct bcrypt_job *j,
			 craft_handler then)
{
	j->req = req;
	req->state = j;
	craft_req_suspend(req, then);
	if (craft_workq_submit(queue, run_bcrypt, j) != CRAFT_OK) {
		j->rejected = true;
		craft_req_resume(req);
	}
}

static bool reply_if_rejected(craft_req *req, const struct bcrypt_job *j)
{
	if (j->stopping) {
		craft_reply_stopping(req);
		return true;
	}
	if (!j->rejected)
		return false;
	craft_reply_header(req, "Retry-After", "1");
	craft_reply_error(req, 503, "Server busy, try again shortly");
	return true;
}

static void reply_too_many(craft_req *req, long retry_after, const char *what)
{
	craft_reply_header(req, "Retry-After", craft_arena_sprintf(req->arena, "%ld", retry_after));
	craft_reply_error(req, 429, "Too many %s; try again in %ld seconds", what, retry_after);
}

static void reply_invalid_credentials(craft_req *req)
{
	craft_reply_header(req, "WWW-Authenticate", "Bearer");
	craft_reply_error(req, 401, "Invalid credentials");
}

static void reply_field_error(craft_req *req, unsigned status, const char *field,
			      const char *message)
{
	craft_reply_json(req, status,
			 json_pack("{s:s, s:i, s:s, s:s}", "error", message, "status_code",
				   (int)status, "path", req->path, "field", field));
}

/* Constant-time comparison of the X-Internal-API-Key header with the secret
 * (digests first, so lengths leak nothing either). */
static bool internal_key_ok(craft_req *req)
{
	const struct auth_app *app = req->app;
	const char *given = craft_req_header(req, "X-Internal-API-Key");
	if (!given)
		return false;
	unsigned char a[SHA256_DIGEST_LENGTH], b[SHA256_DIGEST_LENGTH];
	SHA256((const unsigned char *)given, strlen(given), a);
	SHA256((const unsigned char *)app->cfg.internal_api_key, strlen(app->cfg.internal_api_key),
	       b);
	return CRYPTO_memcmp(a, b, sizeof(a)) == 0;
}

/* A string member, or NULL when absent or not a string. */
static const char *str_member(json_t *body, const char *name)
{
	return json_string_value(json_object_get(body, name));
}

/* The client address for rate limiting: the peer, or the first address of
 * X-Forwarded-For when the peer proved it is our frontend (internal key). */
static const char *client_address(craft_req *req)
{
	const char *xff = craft_req_header(req, "X-Forwarded-For");
	if (xff && internal_key_ok(req)) {
		size_t n = strcspn(xff, ", ");
		if (n > 0 && n <= 64)
			return craft_arena_strndup(req->arena, xff, n);
	}
	return craft_req_client_ip(req);
}

/* ---- POST /api/auth/register (internal) ---- */

static void reply_taken(craft_req *req, const char *field)
{
	if (strcmp(field, "email") == 0)
		reply_field_error(req, 409, "email", "Email already registered");
	else
		reply_field_error(req, 409, "username", "Username already exists");
}

static void register_finish(craft_req *req)
{
	struct bcrypt_job *j = req->state;
	struct auth_app *app = req->app;
	if (reply_if_rejected(req, j))
		return;
	if (j->rc) {
		craft_reply_error(req, 500, "Cannot hash the password");
		return;
	}
	long long id = 0;
	int rc =
	    auth_users_insert(app->pg, req->arena, req->span, j->username, j->email, j->hash, &id);
	if (rc == CRAFT_ECONFLICT) { /* lost a race after the check in register_user */
		reply_taken(req, auth_gate_taken_field(&app->gate, req->arena, req->span,
						       j->username, j->email));
		return;
	}
	if (rc) {
		craft_service_reply_db_error(req, rc);
		return;
	}
	craft_log(CRAFT_LOG_INFO, req->span, "user registered", "{s:I, s:s}", "user_id",
		  (json_int_t)id, "username", j->username);
	craft_reply_json(req, 200,
			 json_pack("{s:s, s:I, s:s}", "message", "User registered successfully",
				   "user_id", (json_int_t)id, "username", j->username));
}

/* The three fields of a registration, each checked; false when it has
 * already replied 400 naming the field. */
static bool register_input(craft_req *req, const char *values[3])
{
	json_t *body;
	if (craft_req_json_body(req, &body))
		return false;
	static const char *const fields[] = {"username", "email", "password"};
	for (size_t i = 0; i < 3; i++) {
		values[i] = str_member(body, fields[i]);
		if (!values[i]) {
			reply_field_error(req, 400, fields[i],
					  craft_arena_sprintf(
					      req->arena, "%s is required (a string)", fields[i]));
			return false;
		}
	}
	const char *(*const checks[])(const char *) = {auth_check_username, auth_check_email,
						       auth_check_password};
	for (size_t i = 0; i < 3; i++) {
		const char *problem = checks[i](values[i]);
		if (problem) {
			reply_field_error(req, 400, fields[i], problem);
			return false;
		}
	}
	return true;
}

static void register_user(craft_req *req)
{
	struct auth_app *app = req->app;
	if (!internal_key_ok(req)) {
		craft_reply_error(req, 401, "Invalid or missing internal API key");
		return;
	}
	const char *values[3];
	if (!register_input(req, values))
		return;
	const char *taken = NULL;
	long retry = 0;
	int rc = auth_gate_register(&app->gate, req->arena, req->span, values[0], values[1],
				    client_address(req), &taken, &retry);
	if (rc == CRAFT_ETOOBIG) {
		reply_too_many(req, retry, "registrations from this address");
		return;
	}
	if (rc == CRAFT_ECONFLICT) { /* taken already: no bcrypt spent on it */
		reply_taken(req, taken);
		return;
	}
	if (rc) {
		craft_service_reply_db_error(req, rc);
		return;
	}
	struct bcrypt_job *j = craft_arena_calloc(req->arena, 1, sizeof(*j));
	j->app = app;
	j->username = values[0];
	j->email = values[1];
	j->password = values[2];
	start_bcrypt(req, app->bcrypt_register, j, register_finish);
}

/* ---- POST /api/auth/login ---- */

/* The login flow's rules over this service's parts (login.h). */
static struct auth_login_rules login_rules(const struct auth_app *app)
{
	return (struct auth_login_rules){.gate = &app->gate,
					 .dummy_hash = app->dummy_hash,
					 .key = app->keys.signing,
					 .token = &app->token};
}

static void login_finish(craft_req *req)
{
	struct bcrypt_job *j = req->state;
	struct auth_app *app = req->app;
	if (reply_if_rejected(req, j))
		return;
	struct auth_login_rules rules = login_rules(app);
	char *token = NULL;
	int rc = auth_login_finish(&rules, req->arena, req->span, j->login, time(NULL), &token);
	if (rc == CRAFT_EINVAL) {
		reply_invalid_credentials(req);
		return;
	}
	if (rc) {
		craft_reply_error(req, 500, "Cannot issue a token");
		return;
	}
	craft_reply_header(req, "Cache-Control", "no-store");
	craft_reply_json(req, 200,
			 json_pack("{s:s, s:s, s:I}", "access_token", token, "token_type", "Bearer",
				   "expires_in", (json_int_t)app->token.ttl_s));
	free(token);
}

static void login(craft_req *req)
{
	struct auth_app *app = req->app;
	json_t *body;
	if (craft_req_json_body(req, &body))
		return;
	const char *username = str_member(body, "username");
	const char *password = str_member(body, "password");
	if (!username || !password || !username[0] || !password[0]) {
		craft_reply_error(req, 400, "username and password are required");
		return;
	}
	struct bcrypt_job *j = craft_arena_calloc(req->arena, 1, sizeof(*j));
	j->app = app;
	j->login = craft_arena_calloc(req->arena, 1, sizeof(*j->login));
	struct auth_login_rules rules = login_rules(app);
	long retry = 0;
	int rc = auth_login_begin(&rules, req->arena, req->span, username, password,
				  client_address(req), j->login, &retry);
	if (rc == CRAFT_ETOOBIG) {
		reply_too_many(req, retry, "failed login attempts");
		return;
	}
	if (rc == CRAFT_EINVAL) { /* a name no account can have */
		reply_invalid_credentials(req);
		return;
	}
	if (rc) {
		craft_service_reply_db_error(req, rc);
		return;
	}
	start_bcrypt(req, app->bcrypt, j, login_finish);
}

/* ---- GET /api/auth/status ---- */

static void status(craft_req *req)
{
	struct auth_app *app = req->app;
	craft_reply_header(req, "Cache-Control", "no-store");
	const char *authz = craft_req_header(req, "Authorization");
	if (!authz || strncasecmp(authz, BEARER, sizeof(BEARER) - 1) != 0) {
		craft_reply_json(req, 200, json_pack("{s:b}", "authenticated", 0));
		return;
	}
	const char *token = authz + sizeof(BEARER) - 1;
	while (*token == ' ')
		token++;
	struct craft_jwt_claims claims;
	const char *reason = NULL;
	if (craft_jwt_verify(app->keys.jwks, token, strlen(token), &app->verify, &claims,
			     &reason) != CRAFT_OK) {
		craft_log(CRAFT_LOG_DEBUG, req->span, "token rejected", "{s:s}", "reason", reason);
		craft_reply_json(req, 200, json_pack("{s:b}", "authenticated", 0));
		return;
	}
	craft_reply_json(req, 200,
			 json_pack("{s:b, s:s, s:s, s:I}", "authenticated", 1, "username",
				   claims.sub, "role", claims.role ? claims.role : "user",
				   "expires_at", (json_int_t)claims.exp));
	craft_jwt_claims_cleanup(&claims);
}

/* ---- discovery ---- */

static char *dump(json_t *doc, size_t *len)
{
	char *text = json_dumps(doc, JSON_COMPACT);
	json_decref(doc);
	if (!text)
		craft_oom(0);
	*len = strlen(text);
	return text;
}

void auth_documents_init(struct auth_app *app)
{
	const char *iss = app->issuer;
	char login_url[600], jwks_url[600], status_url[600];
	snprintf(login_url, sizeof(login_url), "%s/api/auth/login", iss);
	snprintf(jwks_url, sizeof(jwks_url), "%s/.well-known/jwks.json", iss);
	snprintf(status_url, sizeof(status_url), "%s/api/auth/status", iss);
	app->jwks_doc = dump(craft_jwks_to_json(app->keys.jwks), &app->jwks_doc_len);
	app->oidc_doc =
	    dump(json_pack(
		     "{s:s, s:s, s:s, s:s, s:s, s:[s,s], s:[s], s:[s], s:[s,s], s:[s,s,s,s,s,s,s]}",
		     "issuer", iss, "jwks_uri", jwks_url, "authorization_endpoint", login_url,
		     "token_endpoint", login_url, "userinfo_endpoint", status_url,
		     "response_types_supported", "code", "token", "subject_types_supported",
		     "public", "id_token_signing_alg_values_supported", "RS256",
		     "token_endpoint_auth_methods_supported", "none", "client_secret_post",
		     "claims_supported", "sub", "role", "iat", "exp", "iss", "jti", "aud"),
		 &app->oidc_doc_len);
}

void auth_documents_cleanup(struct auth_app *app)
{
	free(app->jwks_doc);
	free(app->oidc_doc);
	app->jwks_doc = app->oidc_doc = NULL;
}

/* Both documents are fixed for the life of the process: built once. */
static void jwks(craft_req *req)
{
	struct auth_app *app = req->app;
	craft_reply_header(req, "Cache-Control", "public, max-age=300");
	craft_reply_static(req, 200, "application/json", app->jwks_doc, app->jwks_doc_len);
}

static void openid_configuration(craft_req *req)
{
	struct auth_app *app = req->app;
	craft_reply_header(req, "Cache-Control", "public, max-age=300");
	craft_reply_static(req, 200, "application/json", app->oidc_doc, app->oidc_doc_len);
}

bool auth_health(void *ctx, craft_req *req, json_t *checks, json_t *health)
{
	(void)health;
	struct auth_app *app = ctx; /* "database" comes from the PostgreSQL opener */
	bool cache = craft_redis_ping(app->redis, req->span) == CRAFT_OK;
	json_object_set_new(checks, "cache", json_string(cache ? "up" : "down"));
	json_object_set_new(health, "cache", json_string(cache ? "up" : "down"));
	return true;
}

const struct craft_route auth_routes[] = {
    {.method = "POST", .pattern = "/api/auth/register", .handler = register_user},
    {.method = "POST", .pattern = "/api/auth/login", .handler = login},
    {.method = "GET", .pattern = "/api/auth/status", .handler = status},
    {.method = "GET", .pattern = "/.well-known/jwks.json", .handler = jwks},
    {.method = "GET",
     .pattern = "/.well-known/openid-configuration",
     .handler = openid_configuration},
};
const size_t auth_nroutes = CRAFT_ARRAY_LEN(auth_routes);

const struct craft_service_link auth_links[] = {
    {.method = "POST",
     .path = "/api/auth/register",
     .what = "create a user (internal: needs X-Internal-API-Key)"},
    {.method = "POST",
     .path = "/api/auth/login",
     .what = "username or email and password for an RS256 access token"},
    {.method = "GET", .path = "/api/auth/status", .what = "who a Bearer token belongs to"},
    {.method = "GET", .path = "/.well-known/jwks.json", .what = "public keys, current first"},
    {.method = "GET",
     .path = "/.well-known/openid-configuration",
     .what = "OpenID Connect discovery"},
    {.method = "GET", .path = "/health", .what = "health for probes"},
    {.method = "GET", .path = "/metrics", .what = "Prometheus metrics"},
};
const size_t auth_nlinks = CRAFT_ARRAY_LEN(auth_links);
