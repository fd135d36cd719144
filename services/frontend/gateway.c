#include "gateway.h"

#include "craft/common.h"

#include "status.h"

#include <stdio.h>
#include <string.h>

const struct backend_def backend_table[BACKEND_COUNT] = {
    [BACKEND_CATALOGUE] = {.name = "Catalogue",
			   .service = "Catalogue service",
			   .health = "/health"},
    [BACKEND_VOTING] = {.name = "Voting", .service = "Voting service", .health = "/health"},
    [BACKEND_RECOMMENDATION] = {.name = "Recommendation",
				.service = "Recommendation service",
				.health = "/health"},
    [BACKEND_AUTHENTICATION] = {.name = "Authentication",
				.service = "Authentication service",
				.health = "/health"},
};

bool backend_up(int result, unsigned status, const json_t *body)
{
	if (result != CRAFT_OK || status == 0 || status >= 500)
		return false;
	const char *said = json_string_value(json_object_get(body, "status"));
	return !said || (strcmp(said, "degraded") != 0 && strcmp(said, "unhealthy") != 0);
}

void gateway_init(struct gateway *g, craft_httpc *http, const char *const base[BACKEND_COUNT],
		  unsigned timeout_ms, const char *internal_api_key, struct status_board *board)
{
	g->http = http;
	g->timeout_ms = timeout_ms;
	g->internal_api_key = internal_api_key;
	g->board = board;
	for (size_t i = 0; i < BACKEND_COUNT; i++) {
		size_t n = strlen(base[i]);
		while (n > 0 && base[i][n - 1] == '/')
			n--;
		snprintf(g->base[i], sizeof(g->base[i]), "%.*s", (int)n, base[i]);
	}
}

static void json_cleanup(void *data)
{
	json_decref(data);
}

/* Headers: Accept, then the token, then the internal pair. */
static size_t headers(const struct gateway *g, craft_arena *arena, const struct gateway_call *c,
		      struct craft_httpc_header h[4])
{
	size_t n = 0;
	h[n++] = (struct craft_httpc_header){.name = "Accept", .value = "application/json"};
	if (c->bearer)
		h[n++] = (struct craft_httpc_header){
		    .name = "Authorization",
		    .value = craft_arena_sprintf(arena, "Bearer %s", c->bearer)};
	if (c->client) {
		h[n++] = (struct craft_httpc_header){.name = "X-Internal-API-Key",
						     .value = g->internal_api_key};
		h[n++] = (struct craft_httpc_header){.name = "X-Forwarded-For", .value = c->client};
	}
	return n;
}

void gateway_start(struct gateway *g, craft_arena *arena, const craft_span *span,
		   const struct gateway_call *call, struct gateway_exchange *x,
		   craft_httpc_done_fn done, void *arg)
{
	static const char *const want[] = {"Retry-After"};
	x->g = g;
	x->backend = call->backend;
	x->answered = false;
	x->req = (struct craft_httpc_request){
	    .method = call->method,
	    .url = craft_arena_sprintf(arena, "%s%s", g->base[call->backend], call->path),
	    .headers = x->headers,
	    .nheaders = headers(g, arena, call, x->headers),
	    .body = call->json_body,
	    .body_len = call->json_body ? strlen(call->json_body) : 0,
	    .want_headers = want,
	    .nwant = CRAFT_ARRAY_LEN(want),
	    .url_template = call->route,
	    .timeout_ms = g->timeout_ms,
	};
	if (craft_httpc_submit(g->http, arena, span, &x->req, &x->resp, 1, done, arg) != CRAFT_OK)
		done(arg); /* the response says why */
}

static void fill(craft_arena *arena, const struct craft_httpc_response *r, struct gateway_answer *a)
{
	*a = (struct gateway_answer){0};
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
			craft_arena_cleanup_add(arena, json_cleanup, a->json);
	}
}

const struct gateway_answer *gateway_answer(struct gateway_exchange *x, craft_arena *arena)
{
	if (!x->answered) {
		fill(arena, &x->resp, &x->answer);
		x->answer.up = backend_up(x->resp.result, x->answer.status, x->answer.json);
		x->answered = true;
		if (x->g->board)
			status_observe(x->g->board, x->backend, x->answer.up);
	}
	return &x->answer;
}
