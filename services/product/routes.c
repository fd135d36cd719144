/* routes.c - product's HTTP handlers: parse and check input, call the domain
 * (catalog.h for changes, the cache and storage for reads), render JSON. */
#include "app.h"

#include "craft/common.h"
#include "craft/log.h"

#include "access.h"
#include "catalog.h"
#include "repr.h"
#include "validate.h"

#include <string.h>
#include <strings.h>

#define BEARER "Bearer " /* the scheme of an Authorization header */

static void reply_not_found(craft_req *req, long id)
{
	craft_reply_error(req, 404, "Origami %ld not found", id);
}

/* ---- identity ---- */

static void claims_cleanup(void *data)
{
	craft_jwt_claims_cleanup(data);
}

/* Verify the Bearer token, if any. 0 with *caller; CRAFT_ENOTFOUND when there
 * is no token; other results with *reason for an unusable one. */
static int read_caller(craft_req *req, struct product_caller *caller, const char **reason)
{
	struct product_app *app = req->app;
	const char *authz = craft_req_header(req, "Authorization");
	if (!authz || strncasecmp(authz, BEARER, sizeof(BEARER) - 1) != 0)
		return CRAFT_ENOTFOUND;
	const char *token = authz + sizeof(BEARER) - 1;
	while (*token == ' ')
		token++;
	struct craft_jwt_claims *claims = craft_arena_calloc(req->arena, 1, sizeof(*claims));
	int rc =
	    craft_jwks_cache_verify(app->jwks, req->span, token, strlen(token), claims, reason);
	if (rc)
		return rc;
	craft_arena_cleanup_add(req->arena, claims_cleanup, claims);
	caller->username = claims->sub;
	caller->role = claims->role ? claims->role : "user";
	return CRAFT_OK;
}

int product_authorize(craft_req *req, const char *role)
{
	struct product_caller *caller = craft_arena_calloc(req->arena, 1, sizeof(*caller));
	const char *reason = NULL;
	int rc = read_caller(req, caller, &reason);
	if (rc == CRAFT_EUNAVAIL) {
		craft_reply_header(req, "Retry-After", "2");
		craft_reply_error(req, 503, "Cannot verify tokens yet: signing keys unavailable");
		return rc;
	}
	if (rc == CRAFT_ENOTFOUND) {
		craft_reply_header(req, "WWW-Authenticate", "Bearer");
		craft_reply_error(req, 401, "Authentication required");
		return rc;
	}
	if (rc) {
		craft_reply_header(req, "WWW-Authenticate", "Bearer error=\"invalid_token\"");
		craft_reply_error(req, 401, "Invalid token: %s", reason ? reason : "rejected");
		return rc;
	}
	if (!product_role_allows(role, caller->role)) {
		if (strcmp(role, "admin") == 0)
			craft_reply_error(req, 403, "Administrator role required");
		else
			craft_reply_error(req, 403, "Role not allowed here");
		return CRAFT_EINVAL;
	}
	req->auth = caller;
	return CRAFT_OK;
}

static const struct product_caller *caller_of(craft_req *req)
{
	return req->auth;
}

/* The domain rules for changes, over this service's pools. */
static struct product_catalog catalog_of(struct product_app *app)
{
	return (struct product_catalog){.pg = app->pg, .cache = &app->cache};
}

/* ---- catalogue ---- */

/* 304 when the caller holds `etag`, else 200 with the bytes as they are. */
static void reply_cached(craft_req *req, const char *etag, const char *json, size_t len)
{
	if (craft_req_etag_matches(req, etag)) {
		craft_reply_not_modified(req, etag, len);
		return;
	}
	craft_reply_header(req, "ETag", etag);
	craft_reply(req, 200, "application/json", json, len);
}

/* Handlers that may block on PostgreSQL run on the database workers, so
 * that the server threads keep answering from the cache meanwhile. */
static void offload(craft_req *req, craft_handler fn)
{
	struct product_app *app = req->app;
	craft_req_offload(req, app->db_work, fn);
}

static void list_products_db(craft_req *req)
{
	struct product_app *app = req->app;
	uint64_t started = product_cache_now_ns();
	struct product_list_view v;
	int rc = product_cache_list(&app->cache, req->arena, req->span, started, &v);
	if (rc) {
		craft_service_reply_db_error(req, rc);
		return;
	}
	reply_cached(req, v.etag, v.json, v.len);
}

static void list_products(craft_req *req)
{
	struct product_app *app = req->app;
	struct product_list_view v;
	if (product_cache_list_peek(&app->cache, req->arena, req->span, &v) == CRAFT_OK)
		reply_cached(req, v.etag, v.json, v.len);
	else
		offload(req, list_products_db);
}

/* Parse the id and load the product (cache first), or reply. */
static int load_product(craft_req *req, long *id, struct product_view *v)
{
	struct product_app *app = req->app;
	if (craft_req_param_id(req, "id", id))
		return CRAFT_EINVAL;
	int rc = product_cache_get(&app->cache, req->arena, req->span, *id, v);
	if (rc == CRAFT_ENOTFOUND)
		reply_not_found(req, *id);
	else if (rc)
		craft_service_reply_db_error(req, rc);
	return rc;
}

static void reply_product(craft_req *req, const struct product_view *v)
{
	char etag[PRODUCT_ETAG_MAX];
	product_etag_item(etag, v->version);
	reply_cached(req, etag, v->json, v->len);
}

static void get_product_db(craft_req *req)
{
	long id;
	struct product_view v;
	if (load_product(req, &id, &v))
		return;
	reply_product(req, &v);
}

static void get_product(craft_req *req)
{
	struct product_app *app = req->app;
	long id;
	struct product_view v;
	if (craft_req_param_id(req, "id", &id))
		return;
	int rc = product_cache_peek(&app->cache, req->arena, req->span, id, &v);
	if (rc == CRAFT_OK)
		reply_product(req, &v);
	else if (rc == CRAFT_ENOTFOUND)
		reply_not_found(req, id);
	else
		offload(req, get_product_db);
}

/* ---- votes ---- */

static void get_votes_db(craft_req *req)
{
	struct product_app *app = req->app;
	long id;
	struct product_view v;
	struct product p;
	if (load_product(req, &id, &v))
		return;
	if (product_view_decode(req->arena, &v, &p)) {
		craft_reply_error(req, 500, "Internal server error");
		return;
	}
	json_t *body =
	    json_pack("{s:I, s:I}", "origami_id", (json_int_t)id, "votes", (json_int_t)p.votes);
	struct product_caller caller;
	const char *reason = NULL;
	if (read_caller(req, &caller, &reason) == CRAFT_OK) {
		bool voted = false;
		int rc =
		    store_has_voted(app->pg, req->arena, req->span, id, caller.username, &voted);
		if (rc) {
			json_decref(body);
			craft_service_reply_db_error(req, rc);
			return;
		}
		json_object_set_new(body, "voted", json_boolean(voted));
	}
	craft_reply_header(req, "Cache-Control", "no-store");
	craft_reply_json(req, 200, body);
}

/* Without a token and with the product cached, no PostgreSQL is needed. */
static void get_votes(craft_req *req)
{
	struct product_app *app = req->app;
	long id;
	struct product_view v;
	struct product p;
	if (craft_req_header(req, "Authorization") || craft_req_param_id(req, "id", &id) ||
	    product_cache_peek(&app->cache, req->arena, req->span, id, &v) != CRAFT_OK ||
	    product_view_decode(req->arena, &v, &p) != CRAFT_OK) {
		if (!craft_req_replied(req))
			offload(req, get_votes_db);
		return;
	}
	craft_reply_header(req, "Cache-Control", "no-store");
	craft_reply_json(
	    req, 200,
	    json_pack("{s:I, s:I}", "origami_id", (json_int_t)id, "votes", (json_int_t)p.votes));
}

static void my_votes_db(craft_req *req)
{
	struct product_app *app = req->app;
	const struct product_caller *caller = caller_of(req);
	long *ids = NULL;
	size_t n = 0;
	int rc = store_votes_of(app->pg, req->arena, req->span, caller->username, &ids, &n);
	if (rc) {
		craft_service_reply_db_error(req, rc);
		return;
	}
	json_t *list = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(list, json_integer(ids[i]));
	craft_reply_header(req, "Cache-Control", "no-store");
	craft_reply_json(
	    req, 200, json_pack("{s:s, s:o}", "username", caller->username, "origami_ids", list));
}

static void change_vote(craft_req *req, bool add)
{
	struct product_app *app = req->app;
	long id;
	if (craft_req_param_id(req, "id", &id))
		return;
	const struct product_caller *caller = caller_of(req);
	struct product_catalog cat = catalog_of(app);
	struct vote_result v;
	int rc = product_catalog_vote(&cat, req->arena, req->span, id, caller->username, add, &v);
	if (rc == CRAFT_ENOTFOUND) {
		reply_not_found(req, id);
		return;
	}
	if (rc) {
		craft_service_reply_db_error(req, rc);
		return;
	}
	const char *message =
	    add ? (v.changed ? "Vote recorded" : "Already voted: your vote was counted once")
		: (v.changed ? "Vote withdrawn" : "No vote to withdraw: nothing changed");
	craft_reply_header(req, "Cache-Control", "no-store");
	craft_reply_json(req, 200,
			 json_pack("{s:I, s:I, s:s, s:b}", "origami_id", (json_int_t)id,
				   "new_vote_count", (json_int_t)v.product.votes, "message",
				   message, "voted", add));
}

static void vote_db(craft_req *req)
{
	change_vote(req, true);
}

static void unvote_db(craft_req *req)
{
	change_vote(req, false);
}

static void vote(craft_req *req)
{
	offload(req, vote_db);
}

static void unvote(craft_req *req)
{
	offload(req, unvote_db);
}

static void my_votes(craft_req *req)
{
	offload(req, my_votes_db);
}

/* ---- administration ---- */

static void reply_field_error(craft_req *req, const char *field, const char *message)
{
	craft_reply_json(req, 400,
			 json_pack("{s:s, s:i, s:s, s:s}", "error", message, "status_code", 400,
				   "path", req->path, "field", field));
}

/* Read and check the fields; `require_name` for a create. 0 or replied. */
static int read_fields(craft_req *req, bool require_name, struct product_fields *f)
{
	json_t *body;
	if (craft_req_json_body(req, &body))
		return CRAFT_EINVAL;
	static const char *const names[] = {"name", "description", "image_url"};
	const char **slots[] = {&f->name, &f->description, &f->image_url};
	for (size_t i = 0; i < 3; i++) {
		json_t *v = json_object_get(body, names[i]);
		*slots[i] = NULL;
		if (v && !json_is_string(v)) {
			reply_field_error(
			    req, names[i],
			    craft_arena_sprintf(req->arena, "%s must be a string", names[i]));
			return CRAFT_EINVAL;
		}
		if (v)
			*slots[i] = json_string_value(v);
	}
	const char *problem = NULL, *field = NULL;
	if (require_name && !f->name)
		field = "name", problem = "name is required";
	else if (f->name && (problem = product_check_name(f->name)))
		field = "name";
	else if (f->description && (problem = product_check_description(f->description)))
		field = "description";
	else if (f->image_url && (problem = product_check_image_url(f->image_url)))
		field = "image_url";
	else if (!f->name && !f->description && !f->image_url)
		field = "name", problem = "nothing to change: give name, description or image_url";
	if (problem) {
		reply_field_error(req, field, problem);
		return CRAFT_EINVAL;
	}
	return CRAFT_OK;
}

static void create_product_db(craft_req *req)
{
	struct product_app *app = req->app;
	struct product_fields f;
	if (read_fields(req, true, &f))
		return;
	struct product_catalog cat = catalog_of(app);
	struct product p;
	int rc = product_catalog_create(&cat, req->arena, req->span, &f, &p);
	if (rc) {
		craft_service_reply_db_error(req, rc);
		return;
	}
	craft_log(CRAFT_LOG_INFO, req->span, "product created", "{s:I, s:s}", "id",
		  (json_int_t)p.id, "by", caller_of(req)->username);
	craft_reply_header(req, "Location",
			   craft_arena_sprintf(req->arena, "/api/products/%ld", p.id));
	craft_reply_json(req, 201, product_repr_json(&p));
}

static void update_product_db(craft_req *req)
{
	struct product_app *app = req->app;
	long id;
	if (craft_req_param_id(req, "id", &id))
		return;
	struct product_fields f;
	if (read_fields(req, false, &f))
		return;
	struct product_catalog cat = catalog_of(app);
	struct product p;
	int rc = product_catalog_update(&cat, req->arena, req->span, id, &f, &p);
	if (rc == CRAFT_ENOTFOUND) {
		reply_not_found(req, id);
		return;
	}
	if (rc) {
		craft_service_reply_db_error(req, rc);
		return;
	}
	craft_reply_json(req, 200, product_repr_json(&p));
}

static void delete_product_db(craft_req *req)
{
	struct product_app *app = req->app;
	long id;
	if (craft_req_param_id(req, "id", &id))
		return;
	struct product_catalog cat = catalog_of(app);
	int rc = product_catalog_delete(&cat, req->arena, req->span, id);
	if (rc == CRAFT_ENOTFOUND) {
		reply_not_found(req, id);
		return;
	}
	if (rc) {
		craft_service_reply_db_error(req, rc);
		return;
	}
	craft_log(CRAFT_LOG_INFO, req->span, "product deleted", "{s:I, s:s}", "id", (json_int_t)id,
		  "by", caller_of(req)->username);
	craft_reply_json(
	    req, 200, json_pack("{s:s, s:I}", "message", "Product deleted", "id", (json_int_t)id));
}

static void create_product(craft_req *req)
{
	offload(req, create_product_db);
}

static void update_product(craft_req *req)
{
	offload(req, update_product_db);
}

static void delete_product(craft_req *req)
{
	offload(req, delete_product_db);
}

static void system_info(craft_req *req)
{
	struct product_app *app = req->app;
	const struct craft_sysinfo *si = &app->svc.sysinfo;
	craft_reply_json(req, 200,
			 json_pack("{s:s, s:s, s:b, s:b}", "hostname", si->hostname, "ip_address",
				   si->ip_address, "is_container", si->is_container,
				   "is_kubernetes", si->is_kubernetes));
}

bool product_health(void *ctx, craft_req *req, json_t *checks, json_t *health)
{
	struct product_app *app = ctx; /* "database" comes from the PostgreSQL opener */
	bool cache = craft_redis_ping(app->redis, req->span) == CRAFT_OK;
	json_object_set_new(checks, "cache", json_string(cache ? "up" : "down"));
	json_object_set_new(checks, "auth_keys",
			    json_string(craft_jwks_cache_ready(app->jwks) ? "up" : "down"));
	json_object_set_new(health, "cache", json_string(cache ? "up" : "down"));
	return true;
}

const struct craft_route product_routes[] = {
    {.method = "GET", .pattern = "/api/products", .handler = list_products},
    {.method = "POST", .pattern = "/api/products", .handler = create_product, .role = "admin"},
    {.method = "GET", .pattern = "/api/products/{id}", .handler = get_product},
    {.method = "PUT", .pattern = "/api/products/{id}", .handler = update_product, .role = "admin"},
    {.method = "DELETE",
     .pattern = "/api/products/{id}",
     .handler = delete_product,
     .role = "admin"},
    {.method = "GET", .pattern = "/api/origamis", .handler = list_products},
    {.method = "GET", .pattern = "/api/origamis/{id}", .handler = get_product},
    {.method = "GET", .pattern = "/api/origamis/{id}/votes", .handler = get_votes},
    {.method = "POST", .pattern = "/api/origamis/{id}/vote", .handler = vote, .role = "user"},
    {.method = "DELETE", .pattern = "/api/origamis/{id}/vote", .handler = unvote, .role = "user"},
    {.method = "GET", .pattern = "/api/votes/mine", .handler = my_votes, .role = "user"},
    {.method = "GET", .pattern = "/api/system-info", .handler = system_info},
};
const size_t product_nroutes = CRAFT_ARRAY_LEN(product_routes);

const struct craft_service_link product_links[] = {
    {.method = "GET", .path = "/api/products", .what = "every origami, ordered by id"},
    {.method = "GET", .path = "/api/products/{id}", .what = "one origami"},
    {.method = "GET",
     .path = "/api/origamis/{id}/votes",
     .what = "its vote count (and whether you voted, with a Bearer token)"},
    {.method = "POST", .path = "/api/origamis/{id}/vote", .what = "vote (Bearer token)"},
    {.method = "DELETE", .path = "/api/origamis/{id}/vote", .what = "withdraw your vote"},
    {.method = "GET", .path = "/api/votes/mine", .what = "the origami you voted for"},
    {.method = "POST", .path = "/api/products", .what = "add an origami (admin)"},
    {.method = "PUT", .path = "/api/products/{id}", .what = "change an origami (admin)"},
    {.method = "DELETE", .path = "/api/products/{id}", .what = "remove an origami (admin)"},
    {.method = "GET", .path = "/api/system-info", .what = "where this instance runs"},
    {.method = "GET", .path = "/health", .what = "health for probes"},
    {.method = "GET", .path = "/metrics", .what = "Prometheus metrics"},
};
const size_t product_nlinks = CRAFT_ARRAY_LEN(product_links);
