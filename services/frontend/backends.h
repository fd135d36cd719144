/* backends.h - the frontend's one-off calls to auth, product and
 * recommendation (logins, votes, pass-through), made without holding a
 * server thread: the request is suspended while its calls run on the HTTP
 * client's event loop, and a continuation replies when every answer (or
 * timeout) is in. Shared, revalidated answers (the catalogue, the origami of
 * the day) live in revalidate.h. */
#ifndef FRONTEND_BACKENDS_H
#define FRONTEND_BACKENDS_H

#include <jansson.h>

#include "craft/httpc.h"

#include "app.h"

#define BACKENDS_MAX 4 /* calls in one backends_start() */

/* One backend answer: `ok` when it answered 2xx; `status` 0 when it did not
 * answer at all; `json` parsed body (arena-owned via cleanup) or NULL. */
struct backend_answer {
	bool ok;
	unsigned status;
	json_t *json;
	const char *body;
	size_t body_len;
	const char *content_type;
	const char *retry_after;
};

/* A GET/POST/DELETE to `base` + `path` with an optional Bearer token and JSON
 * body; `internal` adds the internal API key and X-Forwarded-For. */
struct backend_call {
	enum craft_httpc_method method;
	const char *base;
	const char *path;
	const char *route; /* low-cardinality name for the span */
	const char *bearer;
	const char *json_body;
	bool internal;
};

/* Start `n` calls (1..BACKENDS_MAX) at once and suspend the request; `then`
 * runs on a server thread when they are all over and reads the answers with
 * backends_answers(). The calls are copied. A continuation may start
 * another round. */
void backends_start(craft_req *req, const struct backend_call *calls, size_t n, craft_handler then);

/* The answers of the request's last backends_start(), in call order
 * (arena-owned). A backend that could not be reached is also reported to
 * the status board. */
const struct backend_answer *backends_answers(craft_req *req);

/* Something kept across the rounds of one request (e.g. the state of a
 * login flow, in the arena); NULL when none was set. */
void backends_set_note(craft_req *req, void *note);
void *backends_note(craft_req *req);

#endif
