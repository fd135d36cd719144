/* routes.c - recommendation's HTTP handlers: parse, call the domain, render. */
#include "app.h"

#include "craft/common.h"
#include "craft/log.h"

#include <time.h>

#define LIMIT_MIN     1
#define LIMIT_MAX     RECO_TOP_LIMIT_MAX
#define LIMIT_DEFAULT 5

/* ---- GET /api/origami-of-the-day ---- */

struct daily_wait {
	struct reco_daily_waiter waiter;
	craft_req *req;
	struct reco_daily_answer *answer; /* our reference, once done */
};

/* On the daily reader's thread: keep the answer and wake the request. */
static void daily_done(void *arg, struct reco_daily_answer *answer)
{
	struct daily_wait *dw = arg;
	dw->answer = answer;
	craft_req_resume(dw->req);
}

static void daily_reply(craft_req *req)
{
	struct daily_wait *dw = req->state;
	const struct reco_daily_answer *a = dw->answer;
	if (a->result == CRAFT_ENOTFOUND) {
		craft_reply_error(req, 404, "No origami in the catalogue");
	} else if (a->result) {
		craft_service_reply_db_error(req, a->result);
	} else if (craft_req_etag_matches(req, a->etag)) {
		craft_reply_not_modified(req, a->etag, a->body_len);
	} else {
		craft_reply_header(req, "ETag", a->etag);
		craft_reply(req, 200, "application/json", a->body, a->body_len);
	}
	reco_daily_answer_release(dw->answer); /* the reply holds copies */
	dw->answer = NULL;
}

/* When the request ends without its continuation (the client went away while
 * it was parked), the answer's reference goes with the request. */
static void daily_wait_cleanup(void *arg)
{
	struct daily_wait *dw = arg;
	reco_daily_answer_release(dw->answer);
	dw->answer = NULL;
}

/* Parked until a read of the row that starts after this request arrived, so
 * a vote acknowledged before it is always in the answer (daily.h). The
 * server thread is free meanwhile. */
static void origami_of_the_day(craft_req *req)
{
	struct reco_app *app = req->app;
	struct daily_wait *dw = craft_arena_calloc(req->arena, 1, sizeof(*dw));
	dw->waiter.span = req->span;
	dw->waiter.done = daily_done;
	dw->waiter.arg = dw;
	dw->req = req;
	req->state = dw;
	craft_arena_cleanup_add(req->arena, daily_wait_cleanup, dw);
	craft_req_suspend(req, daily_reply);
	reco_daily_wait(&app->daily, &dw->waiter);
}

static void recommendations(craft_req *req)
{
	struct reco_app *app = req->app;
	long limit;
	if (craft_req_query_int(req, "limit", LIMIT_MIN, LIMIT_MAX, LIMIT_DEFAULT, &limit))
		return;
	struct reco_product *items = NULL;
	size_t n = 0;
	int rc = reco_store_top(app->pg, req->arena, req->span, limit, &items, &n);
	if (rc) {
		craft_service_reply_db_error(req, rc);
		return;
	}
	const char *body;
	size_t len;
	struct reco_top_list *list = reco_top_render(&app->top, limit, items, n, &body, &len);
	craft_reply(req, 200, "application/json", body, len);
	reco_top_release(list); /* the reply holds a copy */
}

static void recommendation_status(craft_req *req)
{
	struct reco_app *app = req->app;
	bool db_up = craft_pg_ping(app->pg, req->span) == CRAFT_OK;
	char ts[32];
	craft_service_timestamp(ts);
	craft_reply_header(req, "Cache-Control", "no-store");
	craft_reply_json(req, 200,
			 json_pack("{s:s, s:s, s:s, s:s, s:s}", "status",
				   db_up ? "operational" : "degraded", "database_status",
				   db_up ? "operational" : "down", "service", "recommendation",
				   "version", app->svc.config.app_version, "timestamp", ts));
}

const struct craft_route reco_routes[] = {
    {.method = "GET", .pattern = "/api/origami-of-the-day", .handler = origami_of_the_day},
    {.method = "GET", .pattern = "/api/recommendations", .handler = recommendations},
    {.method = "GET", .pattern = "/api/recommendation-status", .handler = recommendation_status},
};
const size_t reco_nroutes = CRAFT_ARRAY_LEN(reco_routes);

const struct craft_service_link reco_links[] = {
    {.method = "GET",
     .path = "/api/origami-of-the-day",
     .what = "the origami of the day, the same for everyone during a UTC day"},
    {.method = "GET",
     .path = "/api/recommendations",
     .what = "the most-voted origami; ?limit=1..50, default 5"},
    {.method = "GET",
     .path = "/api/recommendation-status",
     .what = "operational or degraded, with the database status"},
    {.method = "GET",
     .path = "/health",
     .what = "health for probes (503 when the database is down)"},
    {.method = "GET", .path = "/metrics", .what = "Prometheus metrics"},
};
const size_t reco_nlinks = CRAFT_ARRAY_LEN(reco_links);
