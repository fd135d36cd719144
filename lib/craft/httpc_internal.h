/* httpc_internal.h - private to lib/craft/httpc.c and lib/craft/httpc_loop.c.
 *
 * Not part of the public API (that is httpc.h). httpc.c prepares, runs and
 * completes transfers; httpc_loop.c drives them from an event loop thread.
 */
#ifndef CRAFT_HTTPC_INTERNAL_H
#define CRAFT_HTTPC_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

#include <curl/curl.h>

#include "buf.h"
#include "httpc.h"

struct context;
struct httpc_loop;

struct craft_httpc {
	unsigned timeout_ms, connect_timeout_ms, max_contexts, max_idle;
	size_t max_body;
	char *user_agent;
	craft_tracer *tracer;

	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct context **all; /* every context made, for craft_httpc_free */
	unsigned ncontexts, in_use;
	struct context *idle; /* stack: the most recently used (warmest) first */
	atomic_ulong requests, failures, timeouts;

	struct httpc_loop *loop; /* NULL until craft_httpc_loop_start() */
};

/* One request in flight. */
struct transfer {
	craft_httpc *client;
	const struct craft_httpc_request *req;
	struct craft_httpc_response *resp;
	craft_arena *arena;
	CURL *easy;
	struct curl_slist *headers;
	craft_buf body;
	bool added, done, too_big;
	craft_span *span;
	const char *method;
	char *host; /* arena */
	long port;
	char errbuf[CURL_ERROR_SIZE];
	void *batch; /* the loop's batch this transfer belongs to */
};

/* Check the request, start its client span and build its headers (arena
 * work, on the caller's thread). 0, or CRAFT_EINVAL; the transfer is then
 * done and needs no release. */
int httpc_transfer_prepare(struct transfer *t, const craft_span *parent);

/* Point t->easy at the prepared request (no arena work). */
void httpc_transfer_apply(struct transfer *t);

/* Answer a request that could not be started with `result`. */
void httpc_transfer_refuse(struct transfer *t, int result, const craft_span *parent);

/* The transfer ended with `code`: fill the response, end the span (arena
 * work: only one thread may be using the arena). */
void httpc_transfer_complete(struct transfer *t, CURLcode code);

/* Detach the easy handle from `multi` and reset it for the next use. */
void httpc_transfer_release(struct transfer *t, CURLM *multi);

/* Stop the loop (every transfer still running completes as CRAFT_EUNAVAIL)
 * and free it; NULL does nothing. */
void httpc_loop_free(struct httpc_loop *loop);

#endif
