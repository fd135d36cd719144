/* router.h - match a request's method and path against a static route table.
 *
 * Patterns are literal segments and `{name}` parameters, each matching one
 * non-empty path segment: "/api/origamis/{id}/votes". Matching is pure (no
 * allocation, no I/O) so it can be unit tested and fuzzed on its own.
 */
#ifndef CRAFT_ROUTER_H
#define CRAFT_ROUTER_H

#include <stddef.h>

#define CRAFT_ROUTE_MAX_PARAMS 4
#define CRAFT_ROUTE_MAX_PATH   2048

typedef struct craft_req craft_req;

/* A handler answers the request with one of the craft_reply_* functions
 * (http.h). Returning without replying yields a 500. */
typedef void (*craft_handler)(craft_req *req);

struct craft_route {
	const char *method;  /* "GET", "POST", "PUT", "DELETE", ...; GET also serves HEAD */
	const char *pattern; /* "/api/products/{id}" */
	craft_handler handler;
	const char *role; /* role the caller must hold (checked by the server's
			     authorizer), or NULL for public routes */
};

struct craft_route_param {
	const char *name; /* points into the pattern, not NUL-terminated */
	size_t name_len;
	const char *value; /* points into the path, not NUL-terminated */
	size_t value_len;
};

struct craft_route_match {
	const struct craft_route *route;
	size_t nparams;
	struct craft_route_param params[CRAFT_ROUTE_MAX_PARAMS];
};

/* Find the first route whose pattern matches `path` and whose method is
 * `method`. Returns 0 and fills *match; CRAFT_ENOTFOUND when no pattern
 * matches the path (404); CRAFT_EINVAL when patterns match but none with this
 * method (405) — then `allow` receives the allowed methods ("GET, HEAD, POST"),
 * NUL-terminated and truncated to allow_len. A single trailing slash on the
 * path is ignored ("/health/" matches "/health"). */
int craft_router_match(const struct craft_route *routes, size_t count, const char *method,
		       const char *path, struct craft_route_match *match, char *allow,
		       size_t allow_len);

#endif
