/* backends.h - the frontend's calls to auth, product and recommendation.
 * Every call has a short timeout; pages fan out in parallel. */
#ifndef FRONTEND_BACKENDS_H
#define FRONTEND_BACKENDS_H

#include <jansson.h>

#include "craft/httpc.h"

#include "app.h"

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

/* Run `n` calls in parallel (n <= 8) and fill answers[i]. */
void backends_run(craft_req *req, const struct backend_call *calls, struct backend_answer *answers,
		  size_t n);

/* One call. */
void backend_run(craft_req *req, const struct backend_call *call, struct backend_answer *answer);

/* The four dashboard checks, in the order Catalogue, Voting, Recommendation,
 * Authentication: true when up. */
void backends_status(craft_req *req, bool up[4]);
extern const char *const backend_status_names[4];

#endif
