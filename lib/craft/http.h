/* http.h - the HTTP server every service runs: libmicrohttpd underneath, a
 * static route table on top, one arena and one server span per request.
 *
 * Life of a request: headers arrive -> server span started (parent from an
 * incoming traceparent) -> body read into a bounded buffer (413 past the
 * limit) -> route matched (404 / 405 with Allow) -> role checked by the
 * authorizer if the route names one -> handler replies -> response sent ->
 * access log line, metrics, span ended, arena freed.
 *
 * Handlers run on the server's thread pool and may block (PostgreSQL); keep
 * the pool near the core count (DESIGN.md).
 */
#ifndef CRAFT_HTTP_H
#define CRAFT_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "arena.h"
#include "proxy.h"
#include "router.h"
#include "trace.h"

typedef struct craft_server craft_server;
typedef struct craft_metrics craft_metrics;

/* Decide whether the caller may use a route that names a role. Returns 0 to
 * let the handler run; otherwise it has already replied (401/403). */
typedef int (*craft_authorizer)(craft_req *req, const char *role);

struct craft_server_options {
	const char *service; /* service name, for logs and spans */
	const char *host;    /* bind address, e.g. "0.0.0.0" or "127.0.0.1" */
	unsigned port;
	unsigned threads;              /* worker threads (0 = number of cores) */
	unsigned max_connections;      /* 0 = 1024 */
	unsigned connection_timeout_s; /* idle keep-alive timeout, 0 = 30 */
	size_t max_body;               /* request body limit in bytes, 0 = 1 MiB */
	size_t max_header;             /* per-connection header memory, 0 = 32 KiB */
	unsigned drain_timeout_s; /* on shutdown, wait this long for in-flight requests, 0 = 10 */
	bool hsts;                /* Strict-Transport-Security on every response (production) */
	const struct craft_route *routes;
	size_t nroutes;
	craft_authorizer authorizer; /* may be NULL if no route names a role */
	craft_handler fallback;      /* GET/HEAD paths no route matches (e.g. static
					files); NULL = 404 */
	craft_tracer *tracer;        /* may be NULL */
	craft_metrics *metrics;      /* may be NULL */
	void *app;                   /* service context, handed to every handler */
};

/* Bind and start serving. Returns 0, or CRAFT_EIO with a message in err that
 * names the address (e.g. "127.0.0.1:8080 is already in use"). The options and
 * the route table must outlive the server. */
int craft_server_start(const struct craft_server_options *opts, craft_server **out, char *err,
		       size_t err_len);

/* Block until SIGTERM or SIGINT. Call craft_server_block_signals() before any
 * thread is created so that the signals reach this wait. */
void craft_server_wait_for_signal(void);
void craft_server_block_signals(void);

/* Graceful stop: stop accepting, let in-flight requests finish (bounded by
 * drain_timeout_s), close connections, free the server. NULL is fine. */
void craft_server_stop(craft_server *server);

/* The port actually bound (useful with port 0). No service needs it (they
 * bind PORT); the tests start servers on port 0 and read it here. */
unsigned craft_server_port(const craft_server *server);

/* ---- the request, as handlers see it ---- */

struct craft_req {
	craft_arena *arena; /* request lifetime memory */
	void *app;          /* craft_server_options.app */
	craft_span *span;   /* the server span; parent of client spans */
	const char *method;
	const char *path; /* decoded path, no query string */
	const struct craft_route *route;
	struct craft_route_match match;
	const char *body; /* NUL-terminated request body ("" when none) */
	size_t body_len;
	void *auth;  /* set by the authorizer for handlers, e.g. verified claims */
	void *state; /* free for the handler, e.g. a suspended request's job */
	/* private to http.c */
	struct craft_req_private *priv;
};

/* A path parameter by name ("id"), NUL-terminated in the arena, or NULL. */
const char *craft_req_param(craft_req *req, const char *name);

/* A query-string argument, or NULL. First occurrence wins. */
const char *craft_req_query(craft_req *req, const char *name);

/* A request header (case-insensitive name), or NULL. */
const char *craft_req_header(craft_req *req, const char *name);

/* A cookie value by name, or NULL. */
const char *craft_req_cookie(craft_req *req, const char *name);

/* The peer address as text ("127.0.0.1"). */
const char *craft_req_client_ip(craft_req *req);

/* Every line of a request header joined with ", " (as RFC 9110 allows for
 * list headers such as X-Forwarded-For), from the request's arena; NULL when
 * absent. At most `max` bytes are kept (the right-most lines are the ones a
 * proxy appended, so the left is cut). */
const char *craft_req_header_list(craft_req *req, const char *name, size_t max);

/* The client's address behind the `trusted` proxies (see craft/proxy.h):
 * the peer, or what trusted proxies reported in X-Forwarded-For. Canonical
 * text from the request's arena. */
const char *craft_req_client_behind(craft_req *req, const struct craft_proxy_list *trusted);

/* Parse-or-reply helpers: 0 with the value, or a 400 has been sent and a
 * negative result is returned; the handler just returns. */
int craft_req_param_id(craft_req *req, const char *name, long *out);
/* The body as a JSON object; 400 with the parser's position for bad JSON or a
 * non-object; 415 unless the Content-Type is application/json. The result
 * is owned by the arena. */
int craft_req_json_body(craft_req *req, json_t **out);

/* Whether the request's Content-Type is application/json (parameters such as
 * charset allowed). */
bool craft_req_is_json(craft_req *req);
/* An optional integer query argument within [min, max]; `fallback` if absent. */
int craft_req_query_int(craft_req *req, const char *name, long min, long max, long fallback,
			long *out);

/* ---- asynchronous handlers ---- */

/* Park the request without replying and free the server thread: the handler
 * returns, work continues elsewhere (e.g. a craft_workq job), and that work
 * calls craft_req_resume() when done. The server then calls `then(req)` on
 * one of its threads, which replies (or suspends again). Call from the
 * handler (or a continuation) only, before handing the request to another
 * thread. */
void craft_req_suspend(craft_req *req, craft_handler then);

/* Run fn(req) on a thread of `queue` (a craft_workq) instead of this server
 * thread: for handlers that block (PostgreSQL), so that the server threads
 * keep serving requests that do not. fn replies as a handler does (it may
 * not suspend); the request is resumed when it returns. When the queue
 * is full, 503 with Retry-After has been sent instead. Call from a handler
 * or continuation, and return right after. */
struct craft_workq;
void craft_req_offload(craft_req *req, struct craft_workq *queue, craft_handler fn);

/* Wake a suspended request; safe from any thread, exactly once per suspend.
 * The request must not be touched by the caller afterwards. */
void craft_req_resume(craft_req *req);

/* True near the end of the drain after SIGTERM (the last quarter, at most
 * 2 s): work still queued for a suspended request should be given up and
 * answered with craft_reply_stopping(), so the drain ends in time. Until
 * then accepted requests are served as usual. Any thread. */
bool craft_req_stopping(craft_req *req);

/* 503 with Retry-After: the service is shutting down; another replica (or
 * this one restarted) will answer the retry. */
void craft_reply_stopping(craft_req *req);

/* ---- replies: call exactly one per request ---- */

/* Add a response header (copied). Call before the reply. */
void craft_reply_header(craft_req *req, const char *name, const char *value);

/* Send `len` bytes of `data` with `content_type`. The data is copied. */
void craft_reply(craft_req *req, unsigned status, const char *content_type, const void *data,
		 size_t len);

/* Send malloc'd data without copying; the server frees it. */
void craft_reply_take(craft_req *req, unsigned status, const char *content_type, char *data,
		      size_t len);

/* Send bytes that outlive the server (static files loaded at start): no
 * copy is made. */
void craft_reply_static(craft_req *req, unsigned status, const char *content_type, const void *data,
			size_t len);

/* Send JSON; takes the reference to `body`. */
void craft_reply_json(craft_req *req, unsigned status, json_t *body);

/* Send {"error": message, "status_code": status, "path": path}. */
void craft_reply_error(craft_req *req, unsigned status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Send an HTML page (security headers added). The data is copied. */
void craft_reply_html(craft_req *req, unsigned status, const char *html, size_t len);

/* Send a redirect with an empty body (303 for form posts). */
void craft_reply_redirect(craft_req *req, unsigned status, const char *location);

/* ---- conditional requests (RFC 9110 section 13.1.2) ---- */

/* True when the If-None-Match header `header` (a list of entity tags, or
 * "*") matches `etag`, a quoted entity tag such as "\"p42\"". Weak
 * comparison: a W/ prefix on either side is ignored. NULL header: false. */
bool craft_etag_list_matches(const char *header, const char *etag);

/* craft_etag_list_matches() on the request's If-None-Match. */
bool craft_req_etag_matches(craft_req *req, const char *etag);

/* Send 304 Not Modified carrying `etag`, with no body. `full_len` is the
 * length of the 200's body: a 304 may only announce that Content-Length
 * (RFC 9110 section 8.6), never 0. */
void craft_reply_not_modified(craft_req *req, const char *etag, size_t full_len);

/* True once a reply has been queued. */
bool craft_req_replied(const craft_req *req);

#endif
