/* revalidate.c - shared, revalidated backend answers (see revalidate.h). */
#include "revalidate.h"

#include "craft/clock.h"
#include "craft/common.h"
#include "craft/log.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { WANT_ETAG = 0 };

/* One request to the backend and the pages waiting for it. */
struct reval_round {
	struct reval_resource *r;
	craft_arena *arena;
	const craft_span *parent;
	struct reval_waiter *waiters;
	struct reval_answer *basis; /* what If-None-Match named (a reference) */
	uint64_t seq;               /* order of sending */
	struct craft_httpc_header header;
	struct craft_httpc_request req;
	struct craft_httpc_response resp;
};

struct reval_answer *reval_answer_ref(struct reval_answer *a)
{
	if (a)
		atomic_fetch_add_explicit(&a->refs, 1, memory_order_relaxed);
	return a;
}

void reval_answer_release(struct reval_answer *a)
{
	if (!a || atomic_fetch_sub_explicit(&a->refs, 1, memory_order_acq_rel) != 1)
		return;
	json_decref(a->json);
	free(a->etag);
	free(a->body);
	free(a->content_type);
	free(a);
}

void reval_init(struct reval_resource *r, craft_httpc *http, const char *url, const char *route,
		unsigned timeout_ms)
{
	memset(r, 0, sizeof(*r));
	r->http = http;
	r->url = craft_xstrdup(url);
	r->route = route;
	r->timeout_ms = timeout_ms;
	pthread_mutex_init(&r->mu, NULL);
}

void reval_cleanup(struct reval_resource *r)
{
	reval_answer_release(r->kept);
	free(r->url);
	pthread_mutex_destroy(&r->mu);
}

/* May another round go on the wire now? (r->mu held) */
static bool may_send(const struct reval_resource *r)
{
	if (r->inflight < REVAL_MAX_INFLIGHT)
		return true;
	return r->inflight < REVAL_HARD_MAX && craft_clock_ms() - r->last_send_ms >= REVAL_STALL_MS;
}

/* ---- answers ---- */

static struct reval_answer *answer_new(int result, unsigned status)
{
	struct reval_answer *a = craft_xcalloc(1, sizeof(*a));
	atomic_init(&a->refs, 1);
	a->result = result;
	a->status = status;
	a->body = craft_xstrdup("");
	return a;
}

/* A new 200 (or any other status) read from the response. */
static struct reval_answer *answer_from(struct reval_resource *r,
					const struct craft_httpc_response *resp)
{
	struct reval_answer *a = answer_new(resp->result, resp->status);
	if (resp->result != CRAFT_OK)
		return a;
	free(a->body);
	a->body = craft_xmalloc(resp->body_len + 1);
	memcpy(a->body, resp->body, resp->body_len);
	a->body[resp->body_len] = '\0';
	a->body_len = resp->body_len;
	a->content_type = resp->content_type ? craft_xstrdup(resp->content_type) : NULL;
	a->etag = resp->headers[WANT_ETAG] ? craft_xstrdup(resp->headers[WANT_ETAG]) : NULL;
	if (resp->body_len)
		a->json = json_loadb(resp->body, resp->body_len, 0, NULL);
	a->ok = resp->status >= 200 && resp->status < 300 && a->json;
	a->serial = ++r->serial; /* under r->mu */
	return a;
}

/* The outcome of round `rd`, under r->mu: what every waiter gets. A 304
 * confirms the answer the round named, whatever was kept meanwhile; a 200
 * is kept unless a round sent later has already replaced it. */
static struct reval_answer *settle(struct reval_resource *r, struct reval_round *rd)
{
	const struct craft_httpc_response *resp = &rd->resp;
	if (resp->result == CRAFT_OK && resp->status == 304 && rd->basis) {
		atomic_fetch_add_explicit(&r->not_modified, 1, memory_order_relaxed);
		return reval_answer_ref(rd->basis);
	}
	struct reval_answer *a = answer_from(r, resp);
	if (a->ok && a->status == 200 && a->etag) {
		atomic_fetch_add_explicit(&r->fetched, 1, memory_order_relaxed);
		if (rd->seq > r->kept_seq) {
			reval_answer_release(r->kept);
			r->kept = reval_answer_ref(a);
			r->kept_seq = rd->seq;
		}
	} else if (!(a->result == CRAFT_OK && a->status < 500)) {
		atomic_fetch_add_explicit(&r->failed, 1, memory_order_relaxed);
	}
	return a;
}

/* ---- rounds ---- */

static void round_done(void *arg);

static struct reval_round *round_new(struct reval_resource *r, const craft_span *parent)
{
	craft_arena *arena = craft_arena_new(0);
	struct reval_round *rd = craft_arena_calloc(arena, 1, sizeof(*rd));
	rd->r = r;
	rd->arena = arena;
	rd->parent = parent;
	return rd;
}

/* Send the round (r->mu held; the kept ETag is read here). False when it
 * could not be sent: its waiters are then answered by the caller. */
static bool round_send(struct reval_round *rd)
{
	struct reval_resource *r = rd->r;
	static const char *const want[] = {"ETag"};
	rd->req = (struct craft_httpc_request){.method = CRAFT_HTTPC_GET,
					       .url = r->url,
					       .url_template = r->route,
					       .timeout_ms = r->timeout_ms,
					       .want_headers = want,
					       .nwant = 1};
	rd->seq = ++r->send_seq;
	if (r->kept && r->kept->etag) {
		rd->basis = reval_answer_ref(r->kept);
		rd->header = (struct craft_httpc_header){
		    .name = "If-None-Match", .value = craft_arena_strdup(rd->arena, r->kept->etag)};
		rd->req.headers = &rd->header;
		rd->req.nheaders = 1;
	}
	atomic_fetch_add_explicit(&r->sent, 1, memory_order_relaxed);
	r->inflight++;
	r->last_send_ms = craft_clock_ms();
	if (craft_httpc_submit(r->http, rd->arena, rd->parent, &rd->req, &rd->resp, 1, round_done,
			       rd) == CRAFT_OK)
		return true;
	r->inflight--;
	return false;
}

/* Give every waiter of `rd` the answer, then free the round. */
static void round_finish(struct reval_round *rd, struct reval_answer *a)
{
	struct reval_waiter *w = rd->waiters;
	reval_answer_release(rd->basis);
	craft_arena_free(rd->arena);
	while (w) {
		struct reval_waiter *next = w->next; /* done() may free w */
		w->done(w, reval_answer_ref(a));
		w = next;
	}
	reval_answer_release(a);
}

static void round_done(void *arg)
{
	struct reval_round *rd = arg;
	struct reval_resource *r = rd->r;
	struct reval_round *failed = NULL;
	pthread_mutex_lock(&r->mu);
	r->inflight--;
	struct reval_answer *a = settle(r, rd);
	struct reval_round *next = r->next;
	if (next) {
		r->next = NULL;
		if (!round_send(next))
			failed = next;
	}
	pthread_mutex_unlock(&r->mu);
	if (r->on_outcome)
		r->on_outcome(r->outcome_ctx, r, a);
	round_finish(rd, a);
	if (failed)
		round_finish(failed, answer_new(CRAFT_EUNAVAIL, 0));
}

void reval_get(struct reval_resource *r, struct reval_waiter *w, const craft_span *parent)
{
	struct reval_round *failed = NULL;
	pthread_mutex_lock(&r->mu);
	struct reval_round *rd = r->next;
	if (!rd)
		rd = round_new(r, parent);
	w->next = rd->waiters;
	rd->waiters = w;
	r->next = NULL;
	if (!may_send(r))
		r->next = rd; /* sent when a round in flight comes back, or stalls */
	else if (!round_send(rd))
		failed = rd;
	pthread_mutex_unlock(&r->mu);
	if (failed)
		round_finish(failed, answer_new(CRAFT_EUNAVAIL, 0));
}

void reval_tick(struct reval_resource *r)
{
	struct reval_round *failed = NULL;
	pthread_mutex_lock(&r->mu);
	struct reval_round *rd = r->next;
	if (rd && may_send(r)) {
		r->next = NULL;
		if (!round_send(rd))
			failed = rd;
	}
	pthread_mutex_unlock(&r->mu);
	if (failed)
		round_finish(failed, answer_new(CRAFT_EUNAVAIL, 0));
}

/* ---- the ticker ---- */

static void *ticker_main(void *arg)
{
	struct reval_ticker *t = arg;
	pthread_mutex_lock(&t->mu);
	while (!t->stopping) {
		struct timespec until = craft_deadline_ms(t->every_ms);
		pthread_cond_timedwait(&t->cv, &t->mu, &until);
		if (t->stopping)
			break;
		pthread_mutex_unlock(&t->mu);
		for (size_t i = 0; i < t->count; i++)
			reval_tick(t->resources[i]);
		pthread_mutex_lock(&t->mu);
	}
	pthread_mutex_unlock(&t->mu);
	return NULL;
}

int reval_ticker_start(struct reval_ticker *t, struct reval_resource **resources, size_t count,
		       unsigned every_ms)
{
	memset(t, 0, sizeof(*t));
	t->resources = resources;
	t->count = count;
	t->every_ms = every_ms;
	pthread_mutex_init(&t->mu, NULL);
	craft_cond_init_monotonic(&t->cv);
	if (pthread_create(&t->thread, NULL, ticker_main, t) != 0)
		return CRAFT_EIO;
	t->started = true;
	return CRAFT_OK;
}

void reval_ticker_stop(struct reval_ticker *t)
{
	if (!t->started)
		return;
	pthread_mutex_lock(&t->mu);
	t->stopping = true;
	pthread_cond_signal(&t->cv);
	pthread_mutex_unlock(&t->mu);
	pthread_join(t->thread, NULL);
	pthread_cond_destroy(&t->cv);
	pthread_mutex_destroy(&t->mu);
	t->started = false;
}
