/* revalidate.h - backend answers the frontend keeps and revalidates on every
 * view (the catalogue, the origami of the day).
 *
 * Each resource keeps its last 200 answer with its ETag. A page asks for a
 * fresh answer; the resource sends `If-None-Match` and either keeps what it
 * has (304) or parses the new body once, for every page that asked.
 *
 * Freshness: a waiter is only ever given the outcome of a request sent after
 * the waiter asked, so anything the backend acknowledged before the page
 * request started is in what the page sees. Coalescing: while
 * REVAL_MAX_INFLIGHT requests of a resource are on the wire, pages that ask
 * share one next round, sent when one comes back; so under load a resource
 * costs a couple of backend calls per round trip, whatever the number of
 * pages. A backend that stops answering must not make pages wait for two
 * timeouts: once the last request left REVAL_STALL_MS ago, the next round is
 * sent anyway (reval_tick() does it for pages already waiting), up to
 * REVAL_HARD_MAX on the wire.
 *
 * Waiters are called on the HTTP client's loop thread (or on the asking
 * thread when the request cannot be sent) and must not block.
 */
#ifndef FRONTEND_REVALIDATE_H
#define FRONTEND_REVALIDATE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "craft/httpc.h"

#define REVAL_MAX_INFLIGHT 2  /* rounds on the wire before pages share the next */
#define REVAL_STALL_MS     50 /* ... unless the last one left this long ago */
#define REVAL_HARD_MAX     32 /* rounds on the wire, whatever happens */

/* One answer, shared by every page that received it; immutable. */
struct reval_answer {
	atomic_uint refs;
	int result;       /* 0 when the backend answered */
	unsigned status;  /* its HTTP status (the cached one's after a 304) */
	bool ok;          /* a 2xx with a parsed JSON body */
	bool revalidated; /* 304: the kept answer is still current */
	char *etag;       /* NULL when none */
	char *body;       /* NUL-terminated, "" when none */
	size_t body_len;
	char *content_type; /* NULL when none */
	json_t *json;       /* parsed body (read-only), NULL when not JSON */
	uint64_t serial;    /* changes whenever the content does (render caches) */
};

/* Take and drop a reference; reval_answer_release(NULL) does nothing. */
struct reval_answer *reval_answer_ref(struct reval_answer *a);
void reval_answer_release(struct reval_answer *a);

struct reval_waiter;
typedef void (*reval_done_fn)(struct reval_waiter *w, struct reval_answer *answer);

/* Embed in the asking object; `done` receives a reference it must release. */
struct reval_waiter {
	reval_done_fn done;
	struct reval_waiter *next;
};

struct reval_round;

struct reval_resource {
	craft_httpc *http;
	char *url;
	const char *route; /* span name, e.g. "/api/products" */
	unsigned timeout_ms;
	/* Told each round's answer before the waiters are (or NULL). */
	void (*on_outcome)(void *ctx, struct reval_resource *r, const struct reval_answer *a);
	void *outcome_ctx;
	int backend; /* which backend answers, for on_outcome */

	pthread_mutex_t mu;
	struct reval_answer *kept; /* last 200 with an ETag */
	struct reval_round *next;  /* asked for, not yet sent */
	unsigned inflight;
	uint64_t last_send_ms;
	uint64_t serial;             /* of the last answer read */
	uint64_t send_seq, kept_seq; /* rounds sent; the one `kept` came from */
	atomic_ulong sent, not_modified, fetched, failed;
};

/* Set up a resource for `url`; strings are copied except `route`. */
void reval_init(struct reval_resource *r, craft_httpc *http, const char *url, const char *route,
		unsigned timeout_ms);
void reval_cleanup(struct reval_resource *r);

/* Ask for an answer sent after this call; w->done is called exactly once.
 * The request joins the trace of `parent` when it is the first to ask for
 * its round (the span must live until w->done is called). */
void reval_get(struct reval_resource *r, struct reval_waiter *w, const craft_span *parent);

/* Send a waiting round whose predecessors have stalled; call every few
 * milliseconds (e.g. from a timer thread). */
void reval_tick(struct reval_resource *r);

/* A thread calling reval_tick() on some resources every `every_ms`. */
struct reval_ticker {
	struct reval_resource **resources;
	size_t count;
	unsigned every_ms;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool stopping, started;
	pthread_t thread;
};

/* Start ticking `count` resources (the array must outlive the ticker). 0,
 * or CRAFT_EIO. */
int reval_ticker_start(struct reval_ticker *t, struct reval_resource **resources, size_t count,
		       unsigned every_ms);
void reval_ticker_stop(struct reval_ticker *t);

#endif
