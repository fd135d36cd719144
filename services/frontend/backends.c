#include "backends.h"

#include "craft/common.h"

#include <string.h>

/* The request's calls in flight and their answers, in its arena. */
struct backend_job {
	craft_req *req;
	size_t n;
	const char *base[BACKENDS_MAX];
	struct craft_httpc_request reqs[BACKENDS_MAX];
	struct craft_httpc_response resps[BACKENDS_MAX];
	struct backend_answer answers[BACKENDS_MAX];
	bool filled;
	void *note;
};

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
		h[nh++] = (struct craft_httpc_header){
		    .name = "X-Forwarded-For",
		    .value = craft_req_client_behind(req, &app->proxies)};
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

static struct backend_job *job_of(craft_req *req)
{
	struct backend_job *j = req->state;
	if (!j) {
		j = craft_arena_calloc(req->arena, 1, sizeof(*j));
		j->req = req;
		req->state = j;
	}
	return j;
}

static void resume(void *arg)
{
	craft_req_resume(arg);
}

void backends_start(craft_req *req, const struct backend_call *calls, size_t n, craft_handler then)
{
	struct frontend_app *app = req->app;
	struct backend_job *j = job_of(req);
	if (n > BACKENDS_MAX)
		n = BACKENDS_MAX;
	j->n = n;
	j->filled = false;
	for (size_t i = 0; i < n; i++) {
		build(req, &calls[i], &j->reqs[i]);
		j->base[i] = calls[i].base;
	}
	craft_req_suspend(req, then);
	if (craft_httpc_submit(app->http, req->arena, req->span, j->reqs, j->resps, n, resume,
			       req) != CRAFT_OK)
		craft_req_resume(req); /* every response says why */
}

const struct backend_answer *backends_answers(craft_req *req)
{
	struct frontend_app *app = req->app;
	struct backend_job *j = job_of(req);
	if (!j->filled) {
		for (size_t i = 0; i < j->n; i++) {
			fill(req, &j->resps[i], &j->answers[i]);
			if (j->answers[i].status == 0)
				status_report_down(&app->status, j->base[i]);
		}
		j->filled = true;
	}
	return j->answers;
}

void backends_set_note(craft_req *req, void *note)
{
	job_of(req)->note = note;
}

void *backends_note(craft_req *req)
{
	return job_of(req)->note;
}
