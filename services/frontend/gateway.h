/* gateway.h - the frontend's backends: one named table of them, one rule for
 * whether a backend is up, and the one-off calls (logins, votes,
 * pass-through, a visitor's votes) made without knowing the incoming request.
 *
 * A call runs on the HTTP client's event loop; `done` is told when it is over
 * and the caller reads the answer with gateway_answer(). Every answer is also
 * judged by backend_up() and told to the status board, so that the page, the
 * dashboard and /api/service-status share one view of each backend. Shared,
 * revalidated answers (the catalogue, the origami of the day) live in
 * revalidate.h and are judged by the same rule. */
#ifndef FRONTEND_GATEWAY_H
#define FRONTEND_GATEWAY_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "craft/arena.h"
#include "craft/httpc.h"
#include "craft/trace.h"

enum backend_id {
	BACKEND_CATALOGUE = 0,
	BACKEND_VOTING,
	BACKEND_RECOMMENDATION,
	BACKEND_AUTHENTICATION,
	BACKEND_COUNT
};

struct backend_def {
	const char *name;    /* on the dashboard: "Catalogue" */
	const char *service; /* in messages: "Catalogue service" */
	const char *health;  /* what the status prober asks: "/health" */
};

/* Indexed by enum backend_id. */
extern const struct backend_def backend_table[BACKEND_COUNT];

/* The one rule: a backend is up when it answered (`result` 0) with a status
 * below 500 and a body that does not say "degraded" or "unhealthy" in its
 * "status" member (`body` may be NULL or not an object). */
bool backend_up(int result, unsigned status, const json_t *body);

#define GATEWAY_URL_MAX 512

struct status_board;

struct gateway {
	craft_httpc *http;
	char base[BACKEND_COUNT][GATEWAY_URL_MAX]; /* no trailing '/' */
	unsigned timeout_ms;
	const char *internal_api_key; /* borrowed */
	struct status_board *board;   /* told every answer; may be NULL */
};

/* Set up `g` over a client whose loop runs; `base` URLs are copied without
 * their trailing '/'. */
void gateway_init(struct gateway *g, craft_httpc *http, const char *const base[BACKEND_COUNT],
		  unsigned timeout_ms, const char *internal_api_key, struct status_board *board);

/* One call: `method` `path` on a backend, with a Bearer token and a JSON
 * body when given. `client` (an address) makes it internal: the internal API
 * key and X-Forwarded-For: client are sent (auth only believes the latter
 * with the former). */
struct gateway_call {
	enum backend_id backend;
	enum craft_httpc_method method;
	const char *path;
	const char *route; /* low-cardinality span name */
	const char *bearer;
	const char *json_body;
	const char *client;
};

/* A backend's answer: `status` 0 when it did not answer at all; `json` the
 * parsed body (owned by the arena) or NULL; strings point into the arena. */
struct gateway_answer {
	bool ok; /* a 2xx */
	bool up; /* the backend is up, by backend_up() */
	unsigned status;
	json_t *json;
	const char *body;
	size_t body_len;
	const char *content_type;
	const char *retry_after;
};

/* A call in flight and its answer; owned by the caller (e.g. inside a
 * request's state in its arena). */
struct gateway_exchange {
	struct gateway *g;
	enum backend_id backend;
	struct craft_httpc_header headers[4];
	struct craft_httpc_request req;
	struct craft_httpc_response resp;
	struct gateway_answer answer;
	bool answered; /* answer filled */
};

/* Start `call` into `x`; `done(arg)` runs once when it is over, on the
 * client's loop thread (or on this thread when it could not be sent). The
 * request's strings are built in `arena`, which must outlive the call. The
 * call's strings are borrowed until done. */
void gateway_start(struct gateway *g, craft_arena *arena, const craft_span *span,
		   const struct gateway_call *call, struct gateway_exchange *x,
		   craft_httpc_done_fn done, void *arg);

/* The answer of a call that is over (parsed on the first read, the parse
 * owned by `arena`); the first read also tells the status board. */
const struct gateway_answer *gateway_answer(struct gateway_exchange *x, craft_arena *arena);

#endif
