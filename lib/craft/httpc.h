/* httpc.h - outbound HTTP for service-to-service calls, on libcurl.
 *
 * Every call has a total and a connect timeout and a bound on the response
 * body. Connections are kept alive and reused: the client owns a small pool
 * of transfer contexts (a curl multi handle with its easy handles and its
 * connection cache), and each call borrows one for its duration. One call can
 * also run several requests at once (craft_httpc_multi) and returns when the
 * slowest has finished or timed out.
 *
 * Each request runs in a client span (parent given by the caller) and carries
 * its `traceparent` (and `tracestate`) downstream. Request headers and bodies
 * are never logged nor put into spans.
 *
 * Results (craft_httpc_response.result and the return value):
 *   0               a response arrived, whatever its HTTP status
 *   CRAFT_ETIMEOUT  the total or connect timeout passed
 *   CRAFT_EUNAVAIL  connection refused, host not found, or no free context
 *   CRAFT_ETOOBIG   the body exceeded max_body (the transfer is aborted)
 *   CRAFT_EINVAL    bad request: URL, scheme other than http/https, headers
 *   CRAFT_EIO       anything else (reset, malformed response, TLS)
 * All functions are thread-safe on a client; redirects are never followed.
 */
#ifndef CRAFT_HTTPC_H
#define CRAFT_HTTPC_H

#include <stddef.h>

#include "arena.h"
#include "otlp.h"
#include "trace.h"

#define CRAFT_HTTPC_MULTI_MAX   16 /* requests in one craft_httpc_multi() */
#define CRAFT_HTTPC_WANT_MAX    8  /* response headers one request may keep */
#define CRAFT_HTTPC_HEADERS_MAX 32 /* request headers */

typedef struct craft_httpc craft_httpc;

enum craft_httpc_method {
	CRAFT_HTTPC_GET = 0,
	CRAFT_HTTPC_POST,
	CRAFT_HTTPC_PUT,
	CRAFT_HTTPC_DELETE,
};

struct craft_httpc_header {
	const char *name;  /* a token, e.g. "Accept" */
	const char *value; /* no CR or LF */
};

struct craft_httpc_request {
	enum craft_httpc_method method;
	const char *url; /* absolute http:// or https:// URL */
	const struct craft_httpc_header *headers;
	size_t nheaders;
	const char *body; /* NULL: no body (GET never has one) */
	size_t body_len;
	const char *content_type; /* of the body; NULL = "application/json" */
	/* Response headers to keep (case-insensitive names, e.g. "Retry-After"). */
	const char *const *want_headers;
	size_t nwant;
	/* Low-cardinality route for the span name, e.g. "/api/products/{id}";
	 * NULL: the span is named "HTTP GET" etc. */
	const char *url_template;
	unsigned timeout_ms;         /* total; 0 = the client's */
	unsigned connect_timeout_ms; /* 0 = the client's */
	size_t max_body;             /* 0 = the client's */
};

struct craft_httpc_response {
	int result;      /* 0 or CRAFT_E*, as returned */
	unsigned status; /* HTTP status; 0 when no response arrived */
	char *body;      /* arena-owned, NUL-terminated, "" when empty; NULL on error */
	size_t body_len;
	const char *content_type; /* arena-owned; NULL when absent */
	/* Values of the request's want_headers, in order (arena-owned; NULL when
	 * absent, and all NULL on error). */
	const char *headers[CRAFT_HTTPC_WANT_MAX];
};

struct craft_httpc_options {
	unsigned timeout_ms;           /* default total timeout; 0 = 5000 */
	unsigned connect_timeout_ms;   /* default connect timeout; 0 = 1000 */
	size_t max_body;               /* default response body bound; 0 = 1 MiB */
	unsigned max_contexts;         /* concurrent calls (threads); 0 = 32 */
	unsigned max_idle_per_context; /* kept-alive connections per context; 0 = 8 */
	const char *user_agent;        /* NULL = "craftista" */
	craft_tracer *tracer;          /* client spans; may be NULL (traceparent still sent) */
};

/* libcurl's process-wide set-up is craft_curl_global_init() (otlp.h, the
 * core's own user of libcurl); craft_httpc_new() calls it too. */

/* A client; nothing is connected yet. Options are copied. 0 and *out, or
 * CRAFT_EINTERNAL when libcurl cannot initialise or lacks http. */
int craft_httpc_new(const struct craft_httpc_options *opts, craft_httpc **out);

/* Close every connection and free the client; no call may be running.
 * craft_httpc_free(NULL) does nothing. */
void craft_httpc_free(craft_httpc *client);

/* Run one request. *resp is always filled; its body and strings are owned
 * by `arena`. Returns resp->result. `parent` may be NULL. */
int craft_httpc_do(craft_httpc *client, craft_arena *arena, const craft_span *parent,
		   const struct craft_httpc_request *req, struct craft_httpc_response *resp);

/* Run `n` requests (1..CRAFT_HTTPC_MULTI_MAX) concurrently on the calling
 * thread; returns when every one has finished or failed (each has its own
 * timeouts). resps[i] answers reqs[i]. Returns 0 when they all ran (look at
 * each resps[i].result), CRAFT_EINVAL for a bad n, CRAFT_EUNAVAIL when no
 * context was free (every response then says so). */
int craft_httpc_multi(craft_httpc *client, craft_arena *arena, const craft_span *parent,
		      const struct craft_httpc_request *reqs, struct craft_httpc_response *resps,
		      size_t n);

/* ---- asynchronous calls ---- */

/* Called on the client's loop thread when a submitted batch is complete.
 * It must not block: typically it resumes a suspended request. */
typedef void (*craft_httpc_done_fn)(void *arg);

/* Start the client's event loop: one thread that drives every submitted
 * transfer with libcurl's multi-socket API on epoll, over a connection cache
 * of its own (at most 64 connections per backend; more transfers wait their
 * turn within their timeouts). At most `max_queue` batches wait to be started
 * (0 = 4096). Returns 0 (also when already started) or CRAFT_EIO.
 * craft_httpc_free() stops the loop: what is still running then completes
 * as CRAFT_EUNAVAIL. */
int craft_httpc_loop_start(craft_httpc *client, unsigned max_queue);

/* Run `n` requests (1..CRAFT_HTTPC_MULTI_MAX) without waiting for them: the
 * requests are checked and their spans started on the calling thread, then
 * the loop runs them, fills resps[i] (owned by `arena`) and calls done(arg)
 * once every one has finished or failed. Until then `reqs`, `resps` and the
 * arena belong to the loop: the caller must not touch them.
 * Returns 0 when done(arg) will be called (exactly once). Otherwise done is
 * never called and every response says why: CRAFT_EINVAL for bad arguments,
 * CRAFT_EUNAVAIL when the loop is not running, is stopping or its queue is
 * full. */
int craft_httpc_submit(craft_httpc *client, craft_arena *arena, const craft_span *parent,
		       const struct craft_httpc_request *reqs, struct craft_httpc_response *resps,
		       size_t n, craft_httpc_done_fn done, void *arg);

struct craft_httpc_stats {
	unsigned contexts, in_use; /* contexts created, and lent out now */
	unsigned long requests, failures, timeouts;
};

/* A snapshot of the client's figures (for /metrics). */
void craft_httpc_stats(craft_httpc *client, struct craft_httpc_stats *out);

/* "GET", "POST", "PUT", "DELETE"; NULL for an unknown value. */
const char *craft_httpc_method_name(enum craft_httpc_method method);

#endif
