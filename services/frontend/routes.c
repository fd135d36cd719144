/* routes.c - the frontend's routes kept from its predecessor (same bodies and
 * status codes), plus the pages. Fetch and JSON callers get JSON; a classic
 * form post (urlencoded, HTML preferred) gets a 303 back to a page, with any
 * message carried in the signed flash cookie. */
#include "app.h"
#include "pages.h"

#include "craft/common.h"
#include "craft/form.h"
#include "craft/log.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- request shape ---- */

static bool starts_with_nocase(const char *s, const char *prefix)
{
	return strncasecmp(s, prefix, strlen(prefix)) == 0;
}

static bool is_form(craft_req *req)
{
	const char *ct = craft_req_header(req, "Content-Type");
	return ct && starts_with_nocase(ct, "application/x-www-form-urlencoded");
}

/* A plain-text reply of a literal. */
static void reply_text(craft_req *req, unsigned status, const char *text)
{
	craft_reply(req, status, "text/plain; charset=utf-8", text, strlen(text));
}

/* ---- backend calls ---- */

static void call_over(void *arg)
{
	craft_req_resume(arg);
}

/* Suspend the request while `c` runs; `then` finds `flow` (which holds `x`)
 * in req->state and reads the answer from `x`. */
static void call_backend(craft_req *req, void *flow, struct gateway_exchange *x,
			 const struct gateway_call *c, craft_handler then)
{
	struct frontend_app *app = req->app;
	req->state = flow;
	craft_req_suspend(req, then);
	gateway_start(&app->gateway, req->arena, req->span, c, x, call_over, req);
}

/* The browser's address, for auth's per-client limits. */
static const char *client_of(craft_req *req)
{
	struct frontend_app *app = req->app;
	return craft_req_client_behind(req, &app->proxies);
}

/* A classic form post: urlencoded, and HTML preferred over JSON. */
static bool wants_redirect(craft_req *req)
{
	if (!is_form(req))
		return false;
	const char *accept = craft_req_header(req, "Accept");
	if (!accept)
		return false;
	const char *html = strstr(accept, "text/html");
	const char *json = strstr(accept, "application/json");
	return html && (!json || html < json);
}

/* JSON first in Accept (what the vote routes answer with JSON for). */
static bool wants_json(craft_req *req)
{
	const char *accept = craft_req_header(req, "Accept");
	if (!accept)
		return false;
	const char *json = strstr(accept, "application/json");
	if (!json)
		return false;
	const char *html = strstr(accept, "text/html");
	const char *text = strstr(accept, "text/plain");
	return (!html || json < html) && (!text || json < text);
}

static void json_cleanup(void *data)
{
	json_decref(data);
}

/* The body's fields as a JSON object (form or JSON), or a 400 (malformed) or
 * 415 (neither) was sent; NULL without a reply for an empty body. */
static json_t *read_fields(craft_req *req)
{
	if (is_form(req)) {
		json_t *o = NULL;
		if (craft_form_parse(req->body, req->body_len, &o) != CRAFT_OK) {
			craft_reply_json(req, 400,
					 json_pack("{s:s}", "error", "Malformed form data"));
			return NULL;
		}
		craft_arena_cleanup_add(req->arena, json_cleanup, o);
		return o;
	}
	if (req->body_len == 0)
		return NULL; /* caller treats as missing fields */
	if (!craft_req_is_json(req)) {
		craft_reply_json(req, 415,
				 json_pack("{s:s}", "error",
					   "Content-Type must be application/json or "
					   "application/x-www-form-urlencoded"));
		return NULL;
	}
	json_error_t e;
	json_t *o = json_loadb(req->body, req->body_len, JSON_REJECT_DUPLICATES, &e);
	if (!o || !json_is_object(o)) {
		json_decref(o);
		craft_reply_json(req, 400, json_pack("{s:s}", "error", "Malformed JSON body"));
		return NULL;
	}
	craft_arena_cleanup_add(req->arena, json_cleanup, o);
	return o;
}

/* Serialise `obj` (consumed) into the arena. */
static const char *json_text(craft_req *req, json_t *obj)
{
	char *text = json_dumps(obj, JSON_COMPACT);
	json_decref(obj);
	if (!text)
		craft_oom(0);
	const char *copy = craft_arena_strdup(req->arena, text);
	free(text);
	return copy;
}

static const char *field(json_t *o, const char *name)
{
	const char *v = json_string_value(json_object_get(o, name));
	return v && v[0] ? v : NULL;
}

/* Refuse state changes coming from another site. */
static bool check_origin(craft_req *req)
{
	struct frontend_app *app = req->app;
	if (session_same_origin(req, &app->session))
		return true;
	craft_reply_json(req, 403, json_pack("{s:s}", "error", "Cross-site request refused"));
	return false;
}

static void redirect(craft_req *req, const char *to)
{
	craft_reply_header(req, "Cache-Control", "no-store");
	craft_reply_redirect(req, 303, to);
}

/* Flash the message and go back to `to` (form posts) or answer JSON. The
 * flash's extra state is borrowed. */
static void answer(craft_req *req, unsigned status, json_t *body, const char *to, json_t *flash)
{
	struct frontend_app *app = req->app;
	if (wants_redirect(req)) {
		const char *msg = json_string_value(json_object_get(body, "error"));
		if (!msg)
			msg = json_string_value(json_object_get(body, "message"));
		session_flash(req, &app->session, status < 400 ? "success" : "error",
			      msg ? msg : "", flash);
		json_decref(body);
		redirect(req, to);
		return;
	}
	craft_reply_json(req, status, body);
}

static void auth_unavailable(craft_req *req, json_t *flash, const char *to)
{
	answer(req, 503, json_pack("{s:s}", "error", "Authentication service unavailable"), to,
	       flash);
}

/* A JSON object owned by the request's arena. */
static json_t *arena_json(craft_req *req, json_t *o)
{
	craft_arena_cleanup_add(req->arena, json_cleanup, o);
	return o;
}

/* ---- /auth ---- */

/* A login (or a registration followed by one) across its backend rounds. */
struct auth_flow {
	struct gateway_exchange x;
	const char *username, *email, *password;
	json_t *flash;       /* form state for an error page (arena-owned) */
	const char *fail_to; /* where a failed form post goes back to */
	void (*logged_in)(craft_req *req, struct auth_flow *f, const char *sub);
};

static void login_answered(craft_req *req);

/* Log in with auth; f->logged_in runs with the cookies set. */
static void login_start(craft_req *req, struct auth_flow *f)
{
	const char *copy = json_text(
	    req, json_pack("{s:s, s:s}", "username", f->username, "password", f->password));
	struct gateway_call call = {.backend = BACKEND_AUTHENTICATION,
				    .method = CRAFT_HTTPC_POST,
				    .path = "/api/auth/login",
				    .route = "/api/auth/login",
				    .json_body = copy,
				    .client = client_of(req)};
	call_backend(req, f, &f->x, &call, login_answered);
}

static void login_answered(craft_req *req)
{
	struct frontend_app *app = req->app;
	struct auth_flow *f = req->state;
	const struct gateway_answer *a = gateway_answer(&f->x, req->arena);
	if (a->status == 0 || a->status >= 500) {
		auth_unavailable(req, f->flash, f->fail_to);
		return;
	}
	if (!a->ok) {
		const char *msg = json_string_value(json_object_get(a->json, "error"));
		if (a->retry_after)
			craft_reply_header(req, "Retry-After", a->retry_after);
		answer(req, a->status, json_pack("{s:s}", "error", msg ? msg : "Login failed"),
		       f->fail_to, f->flash);
		return;
	}
	const char *token = json_string_value(json_object_get(a->json, "access_token"));
	json_int_t ttl = json_integer_value(json_object_get(a->json, "expires_in"));
	struct craft_jwt_claims claims;
	const char *reason = NULL;
	if (!token || craft_jwks_cache_verify(app->jwks, req->span, token, strlen(token), &claims,
					      &reason) != CRAFT_OK) {
		craft_log(CRAFT_LOG_WARN, req->span, "token from auth not verifiable", "{s:s}",
			  "reason", reason ? reason : "missing");
		auth_unavailable(req, f->flash, f->fail_to);
		return;
	}
	const char *sub = craft_arena_strdup(req->arena, claims.sub);
	craft_jwt_claims_cleanup(&claims);
	session_set(req, &app->session, token, sub, ttl > 0 ? (long)ttl : 3600);
	f->logged_in(req, f, sub);
}

static void login_done(craft_req *req, struct auth_flow *f, const char *sub)
{
	(void)f;
	json_t *kind = arena_json(req, json_pack("{s:s}", "kind", "success"));
	answer(req, 200,
	       json_pack("{s:s, s:{s:s}}", "message", "Login successful", "user", "username", sub),
	       "/", kind);
}

static void login(craft_req *req)
{
	if (!check_origin(req))
		return;
	json_t *fields = read_fields(req);
	if (!fields && craft_req_replied(req))
		return;
	struct auth_flow *f = craft_arena_calloc(req->arena, 1, sizeof(*f));
	f->username = field(fields, "username");
	f->password = field(fields, "password");
	f->fail_to = "/login";
	f->logged_in = login_done;
	f->flash = arena_json(req, json_pack("{s:s, s:s}", "form", "login", "username",
					     f->username ? f->username : ""));
	if (!f->username || !f->password) {
		answer(req, 400, json_pack("{s:s}", "error", "Username and password are required"),
		       "/login", f->flash);
		return;
	}
	login_start(req, f);
}

/* The no-JavaScript registration signs the new user in straight away. */
static void registered_logged_in(craft_req *req, struct auth_flow *f, const char *sub)
{
	(void)sub;
	struct frontend_app *app = req->app;
	session_flash(req, &app->session, "success",
		      craft_arena_sprintf(req->arena, "Welcome to Craftista, %s!", f->username),
		      NULL);
	redirect(req, "/");
}

static void register_answered(craft_req *req)
{
	struct auth_flow *f = req->state;
	const struct gateway_answer *a = gateway_answer(&f->x, req->arena);
	if (a->status == 0 || a->status >= 500) {
		auth_unavailable(req, f->flash, "/login#register");
		return;
	}
	if (!a->ok) {
		const char *msg = json_string_value(json_object_get(a->json, "error"));
		const char *fld = json_string_value(json_object_get(a->json, "field"));
		if (fld)
			json_object_set_new(f->flash, "field", json_string(fld));
		answer(req, a->status,
		       json_pack("{s:s}", "error", msg ? msg : "Registration failed"),
		       "/login#register", f->flash);
		return;
	}
	json_int_t id = json_integer_value(json_object_get(a->json, "user_id"));
	if (wants_redirect(req)) {
		f->fail_to = "/login";
		f->logged_in = registered_logged_in;
		login_start(req, f);
		return;
	}
	craft_reply_json(req, 201,
			 json_pack("{s:s, s:{s:I, s:s, s:s}}", "message",
				   "User registered successfully", "user", "id", id, "username",
				   f->username, "email", f->email));
}

static void register_user(craft_req *req)
{
	if (!check_origin(req))
		return;
	json_t *fields = read_fields(req);
	if (!fields && craft_req_replied(req))
		return;
	struct auth_flow *f = craft_arena_calloc(req->arena, 1, sizeof(*f));
	f->username = field(fields, "username");
	f->email = field(fields, "email");
	f->password = field(fields, "password");
	f->flash = arena_json(req, json_pack("{s:s, s:s, s:s}", "form", "register", "username",
					     f->username ? f->username : "", "email",
					     f->email ? f->email : ""));
	if (!f->username || !f->email || !f->password) {
		answer(req, 400,
		       json_pack("{s:s}", "error", "Username, email and password are required"),
		       "/login#register", f->flash);
		return;
	}
	const char *copy = json_text(req, json_pack("{s:s, s:s, s:s}", "username", f->username,
						    "email", f->email, "password", f->password));
	struct gateway_call call = {.backend = BACKEND_AUTHENTICATION,
				    .method = CRAFT_HTTPC_POST,
				    .path = "/api/auth/register",
				    .route = "/api/auth/register",
				    .json_body = copy,
				    .client = client_of(req)};
	call_backend(req, f, &f->x, &call, register_answered);
}

static void logout(craft_req *req)
{
	struct frontend_app *app = req->app;
	if (!check_origin(req))
		return;
	session_clear(req, &app->session);
	answer(req, 200, json_pack("{s:s}", "message", "Logout successful"), "/", NULL);
}

static void auth_status(craft_req *req)
{
	struct frontend_app *app = req->app;
	struct session_user u;
	craft_reply_header(req, "Cache-Control", "no-store");
	if (!session_user(req, app->jwks, &app->session, &u)) {
		craft_reply_json(req, 200, json_pack("{s:b}", "authenticated", 0));
		return;
	}
	craft_reply_json(req, 200,
			 json_pack("{s:b, s:{s:s, s:s}}", "authenticated", 1, "user", "username",
				   u.username, "role", u.role));
}

static void auth_user(craft_req *req)
{
	struct frontend_app *app = req->app;
	struct session_user u;
	craft_reply_header(req, "Cache-Control", "no-store");
	if (!session_user(req, app->jwks, &app->session, &u)) {
		craft_reply_json(req, 401, json_pack("{s:s}", "error", "Authentication required"));
		return;
	}
	craft_reply_json(req, 200, json_pack("{s:s}", "username", u.username));
}

/* ---- pass-through to the backends ---- */

static void pass_through(craft_req *req, const struct gateway_answer *a, enum backend_id backend)
{
	if (a->status == 0) {
		craft_reply_json(req, 503,
				 json_pack("{s:s}", "error",
					   craft_arena_sprintf(req->arena, "%s unavailable",
							       backend_table[backend].service)));
		return;
	}
	craft_reply_header(req, "Cache-Control", "no-store");
	if (a->retry_after)
		craft_reply_header(req, "Retry-After", a->retry_after);
	craft_reply(req, a->status, a->content_type ? a->content_type : "application/json", a->body,
		    a->body_len);
}

/* A shared, revalidated answer passed through as it is. */
struct pass_job {
	craft_req *req;
	struct reval_waiter w;
	struct reval_answer *answer;
	enum backend_id backend;
};

static void pass_job_cleanup(void *data)
{
	struct pass_job *j = data;
	reval_answer_release(j->answer);
}

static void pass_job_done(struct reval_waiter *w, struct reval_answer *a)
{
	struct pass_job *j = (struct pass_job *)(void *)((char *)w - offsetof(struct pass_job, w));
	j->answer = a;
	craft_req_resume(j->req);
}

static void pass_job_reply(craft_req *req)
{
	struct pass_job *j = req->state;
	const struct reval_answer *a = j->answer;
	const struct gateway_answer b = {.ok = a->ok,
					 .status = a->result == CRAFT_OK ? a->status : 0,
					 .body = a->body,
					 .body_len = a->body_len,
					 .content_type = a->content_type};
	pass_through(req, &b, j->backend);
}

static void pass_shared(craft_req *req, struct reval_resource *r)
{
	struct pass_job *j = craft_arena_calloc(req->arena, 1, sizeof(*j));
	j->req = req;
	j->backend = (enum backend_id)r->backend;
	j->w.done = pass_job_done;
	req->state = j;
	craft_arena_cleanup_add(req->arena, pass_job_cleanup, j);
	craft_req_suspend(req, pass_job_reply);
	reval_get(r, &j->w, req->span);
}

static void products(craft_req *req)
{
	struct frontend_app *app = req->app;
	pass_shared(req, &app->catalogue);
}

static void daily(craft_req *req)
{
	struct frontend_app *app = req->app;
	pass_shared(req, &app->daily);
}

/* One call whose answer is passed through as it is. */
struct pass_call {
	struct gateway_exchange x;
};

static void votes_answered(craft_req *req)
{
	struct pass_call *p = req->state;
	pass_through(req, gateway_answer(&p->x, req->arena), BACKEND_VOTING);
}

static void votes(craft_req *req)
{
	struct frontend_app *app = req->app;
	long id;
	if (craft_req_param_id(req, "id", &id))
		return;
	struct session_user u;
	bool in = session_user(req, app->jwks, &app->session, &u);
	struct pass_call *p = craft_arena_calloc(req->arena, 1, sizeof(*p));
	struct gateway_call c = {.backend = BACKEND_VOTING,
				 .path =
				     craft_arena_sprintf(req->arena, "/api/origamis/%ld/votes", id),
				 .route = "/api/origamis/{id}/votes",
				 .bearer = in ? u.token : NULL};
	call_backend(req, p, &p->x, &c, votes_answered);
}

/* A path to put in our own Location: local, and nothing a browser could read
 * as another host ("//host", "/\\host") or bend with control characters. */
static bool plain_local_path(const char *p)
{
	if (p[0] != '/' || p[1] == '/' || p[1] == '\\')
		return false;
	for (; *p && *p != '#'; p++) {
		unsigned char c = (unsigned char)*p;
		if (c <= 0x20 || c >= 0x7f || c == '\\')
			return false;
	}
	return true;
}

/* Where a form post goes back to: the page of this shop it came from, at the
 * card; anything else (another origin, an odd path) goes back to the home page. */
static const char *back_to_card(craft_req *req, long id)
{
	struct frontend_app *app = req->app;
	const char *ref = craft_req_header(req, "Referer");
	const char *path = "/";
	if (ref && session_url_is_ours(req, &app->session, ref)) {
		const char *p = strstr(ref, "://");
		p = p ? p + 3 + strcspn(p + 3, "/?#") : NULL;
		if (p && plain_local_path(p))
			path = craft_arena_strndup(req->arena, p, strcspn(p, "#"));
	}
	return craft_arena_sprintf(req->arena, "%s#origami-%ld", path, id);
}

/* A vote or a withdrawal across its backend round. */
struct vote_flow {
	struct gateway_exchange x;
	long id;
	bool add;
};

static void vote_answered(craft_req *req)
{
	struct frontend_app *app = req->app;
	struct vote_flow *v = req->state;
	const struct gateway_answer *a = gateway_answer(&v->x, req->arena);
	bool add = v->add;
	/* A 401 from product for a token this frontend verified is not the token's
	 * fault (product may not have fetched a new key yet): the cookies stay. */
	if (wants_redirect(req)) {
		const char *msg = a->ok ? (add ? "Vote recorded!" : "Vote withdrawn")
				  : a->status == 0
				      ? "The voting service is unavailable; try again shortly"
				      : json_string_value(json_object_get(a->json, "error"));
		session_flash(req, &app->session, a->ok ? "success" : "error",
			      msg ? msg : "Vote failed", NULL);
		redirect(req, a->status == 401 ? "/login" : back_to_card(req, v->id));
		return;
	}
	if (a->status == 0) {
		reply_text(req, 503, "Voting service unavailable");
		return;
	}
	craft_reply_header(req, "Cache-Control", "no-store");
	if (wants_json(req) || !a->ok) {
		if (!a->ok && !wants_json(req) && a->status == 401) {
			reply_text(req, 401, "Authentication required");
			return;
		}
		pass_through(req, a, BACKEND_VOTING);
		return;
	}
	reply_text(req, 200, add ? "Vote recorded!" : "Vote withdrawn");
}

/* A vote from a session whose token cannot be checked right now (auth's keys
 * not fetched yet, or a key being rotated in): not the user's fault, so 503
 * with Retry-After and the session kept, rather than a 401 that sends them
 * to the login page. */
static void reply_unverifiable(craft_req *req, long id)
{
	struct frontend_app *app = req->app;
	static const char msg[] = "Your sign-in cannot be checked right now; try again shortly";
	if (wants_redirect(req)) {
		session_flash(req, &app->session, "error", msg, NULL);
		redirect(req, back_to_card(req, id));
		return;
	}
	craft_reply_header(req, "Retry-After", "1");
	if (wants_json(req))
		craft_reply_json(req, 503, json_pack("{s:s}", "error", msg));
	else
		reply_text(req, 503, msg);
}

static void change_vote(craft_req *req, bool add)
{
	struct frontend_app *app = req->app;
	long id;
	if (craft_req_param_id(req, "id", &id) || !check_origin(req))
		return;
	struct session_user u;
	bool in = session_user(req, app->jwks, &app->session, &u);
	if (!in && u.unverifiable) {
		reply_unverifiable(req, id);
		return;
	}
	if (!in) {
		if (wants_redirect(req)) {
			session_flash(req, &app->session, "info", "Log in to vote", NULL);
			redirect(req, "/login");
		} else if (wants_json(req)) {
			craft_reply_json(req, 401,
					 json_pack("{s:s}", "error", "Authentication required"));
		} else {
			reply_text(req, 401, "Authentication required");
		}
		return;
	}
	struct vote_flow *v = craft_arena_calloc(req->arena, 1, sizeof(*v));
	v->id = id;
	v->add = add;
	struct gateway_call c = {.backend = BACKEND_VOTING,
				 .method = add ? CRAFT_HTTPC_POST : CRAFT_HTTPC_DELETE,
				 .path =
				     craft_arena_sprintf(req->arena, "/api/origamis/%ld/vote", id),
				 .route = "/api/origamis/{id}/vote",
				 .bearer = u.token};
	call_backend(req, v, &v->x, &c, vote_answered);
}

static void vote(craft_req *req)
{
	/* forms cannot send DELETE: _method=delete withdraws */
	bool withdraw = false;
	if (is_form(req)) {
		json_t *f = NULL;
		if (craft_form_parse(req->body, req->body_len, &f) == CRAFT_OK) {
			const char *m = json_string_value(json_object_get(f, "_method"));
			withdraw = m && strcasecmp(m, "delete") == 0;
			json_decref(f);
		}
	}
	change_vote(req, !withdraw);
}

static void unvote(craft_req *req)
{
	change_vote(req, false);
}

/* ---- status ---- */

static void service_status(craft_req *req)
{
	struct frontend_app *app = req->app;
	struct status_view v;
	status_read(&app->status, &v);
	json_t *body = json_object();
	for (int i = 0; i < BACKEND_COUNT; i++)
		json_object_set_new(body, backend_table[i].name,
				    json_string(v.up[i] ? "up" : "down"));
	craft_reply_header(req, "Cache-Control", "no-store");
	craft_reply_json(req, 200, body);
}

/* One backend's own status route, judged by the one rule. */
struct status_call {
	struct gateway_exchange x;
};

static void one_status_answered(craft_req *req)
{
	struct status_call *sc = req->state;
	const struct gateway_answer *a = gateway_answer(&sc->x, req->arena);
	bool up = a->up;
	craft_reply_header(req, "Cache-Control", "no-store");
	craft_reply_json(req, 200,
			 json_pack("{s:s, s:s}", "status", up ? "up" : "down", "message",
				   craft_arena_sprintf(req->arena, "%s is %s",
						       backend_table[sc->x.backend].service,
						       up ? "operational" : "unavailable")));
}

static void one_status(craft_req *req, enum backend_id backend, const char *path)
{
	struct status_call *sc = craft_arena_calloc(req->arena, 1, sizeof(*sc));
	struct gateway_call c = {.backend = backend, .path = path, .route = path};
	call_backend(req, sc, &sc->x, &c, one_status_answered);
}

static void recommendation_status(craft_req *req)
{
	one_status(req, BACKEND_RECOMMENDATION, "/api/recommendation-status");
}

static void voting_status(craft_req *req)
{
	one_status(req, BACKEND_VOTING, "/health");
}

bool frontend_health(void *ctx, craft_req *req, json_t *checks, json_t *health)
{
	(void)req;
	(void)health;
	struct frontend_app *app = ctx;
	json_object_set_new(checks, "templates", json_string(app->templates ? "up" : "down"));
	json_object_set_new(checks, "auth_keys",
			    json_string(craft_jwks_cache_ready(app->jwks) ? "up" : "down"));
	return app->templates != NULL;
}

void frontend_static(craft_req *req)
{
	struct frontend_app *app = req->app;
	const struct static_file *f = static_lookup(&app->files, req->path);
	if (!f) {
		craft_reply_error(req, 404, "Not found");
		return;
	}
	static_reply(req, f);
}

const struct craft_route frontend_routes[] = {
    {.method = "GET", .pattern = "/", .handler = page_home},
    {.method = "GET", .pattern = "/login", .handler = page_login},
    {.method = "GET", .pattern = "/fragments/cards", .handler = page_cards},
    {.method = "POST", .pattern = "/auth/login", .handler = login},
    {.method = "POST", .pattern = "/auth/register", .handler = register_user},
    {.method = "POST", .pattern = "/auth/logout", .handler = logout},
    {.method = "GET", .pattern = "/auth/status", .handler = auth_status},
    {.method = "GET", .pattern = "/auth/user", .handler = auth_user},
    {.method = "GET", .pattern = "/api/products", .handler = products},
    {.method = "GET", .pattern = "/api/origamis/{id}/votes", .handler = votes},
    {.method = "POST", .pattern = "/api/origamis/{id}/vote", .handler = vote},
    {.method = "DELETE", .pattern = "/api/origamis/{id}/vote", .handler = unvote},
    {.method = "GET", .pattern = "/api/service-status", .handler = service_status},
    {.method = "GET", .pattern = "/recommendation-status", .handler = recommendation_status},
    {.method = "GET", .pattern = "/votingservice-status", .handler = voting_status},
    {.method = "GET", .pattern = "/daily-origami", .handler = daily},
};
const size_t frontend_nroutes = CRAFT_ARRAY_LEN(frontend_routes);
