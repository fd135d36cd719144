#include "backends.h"

#include "craft/common.h"

#include <string.h>

const char *const backend_status_names[4] = {"Catalogue", "Voting", "Recommendation",
					     "Authentication"};

static void json_cleanup(void *data)
{
	json_decref(data);
}

static void build(craft_req *req, const struct backend_call *c, struct craft_httpc_request *r)
{
	struct frontend_app *app = req->app;
	struct craft_httpc_header *h = craft_arena_calloc(req->arena, 4, sizeof(*h));
	size_t nh = 0;
	h[nh++] = (struct craft_httpc_header){.name = "Accept", .value = "application/json"};
	if (c->bearer)
		h[nh++] = (struct craft_httpc_header){
		    .name = "Authorization",
		    .value = craft_arena_sprintf(req->arena, "Bearer %s", c->bearer)};
	if (c->internal) {
		h[nh++] = (struct craft_httpc_header){.name = "X-Internal-API-Key",
						      .value = app->cfg.internal_api_key};
		h[nh++] = (struct craft_httpc_header){.name = "X-Forwarded-For",
						      .value = craft_req_client_ip(req)};
	}
	static const char *const want[] = {"Retry-After"};
	*r = (struct craft_httpc_request){
	    .method = c->method,
	    .url = craft_arena_sprintf(req->arena, "%s%s", c->base, c->path),
	    .headers = h,
	    .nheaders = nh,
	    .body = c->json_body,
	    .body_len = c->json_body ? strlen(c->json_body) : 0,
	    .want_headers = want,
	    .nwant = 1,
	    .url_template = c->route,
	    .timeout_ms = (unsigned)app->cfg.backend_timeout_ms,
	};
}

static void fill(craft_req *req, const struct craft_httpc_response *r, struct backend_answer *a)
{
	memset(a, 0, sizeof(*a));
	if (r->result != CRAFT_OK)
		return;
	a->status = r->status;
	a->ok = r->status >= 200 && r->status < 300;
	a->body = r->body;
	a->body_len = r->body_len;
	a->content_type = r->content_type;
	a->retry_after = r->headers[0];
	if (r->body_len > 0) {
		a->json = json_loadb(r->body, r->body_len, 0, NULL);
		if (a->json)
			craft_arena_cleanup_add(req->arena, json_cleanup, a->json);
	}
}

void backends_run(craft_req *req, const struct backend_call *calls, struct backend_answer *answers,
		  size_t n)
{
	struct frontend_app *app = req->app;
	struct craft_httpc_request reqs[8] = {0};
	struct craft_httpc_response resps[8];
	if (n > 8)
		n = 8;
	for (size_t i = 0; i < n; i++)
		build(req, &calls[i], &reqs[i]);
	craft_httpc_multi(app->http, req->arena, req->span, reqs, resps, n);
	for (size_t i = 0; i < n; i++)
		fill(req, &resps[i], &answers[i]);
}

void backend_run(craft_req *req, const struct backend_call *call, struct backend_answer *answer)
{
	backends_run(req, call, answer, 1);
}

void backends_status(craft_req *req, bool up[4])
{
	struct frontend_app *app = req->app;
	const struct backend_call calls[4] = {
	    {.base = app->products, .path = "/health", .route = "/health"},
	    {.base = app->voting, .path = "/health", .route = "/health"},
	    {.base = app->recommendation,
	     .path = "/api/recommendation-status",
	     .route = "/api/recommendation-status"},
	    {.base = app->auth, .path = "/health", .route = "/health"},
	};
	struct backend_answer a[4];
	backends_run(req, calls, a, 4);
	for (int i = 0; i < 4; i++)
		up[i] = a[i].ok;
	/* recommendation answers 200 even when degraded: read its status */
	const char *s = json_string_value(json_object_get(a[2].json, "status"));
	up[2] = a[2].ok && s && strcmp(s, "operational") == 0;
}
