/* fuzz_router - route matching (lib/craft/router.h).
 *
 * Input: "<method> <path>" (the first space splits them; no space: GET and the
 * whole input as the path). The first byte also sizes the Allow buffer (1..64
 * bytes, heap-allocated exactly, so truncation is exercised under ASan).
 * The table is the union of the services' real route shapes plus one synthetic
 * pattern with more parameters than CRAFT_ROUTE_MAX_PARAMS.
 *
 * Invariants: a match names a route of the table whose method fits (HEAD is
 * served by GET), whose pattern has as many {params} as were captured, and each
 * captured value is a non-empty part of the path without '/'. A 405 fills Allow
 * with a NUL-terminated list within its size. Only 0, ENOTFOUND, EINVAL occur.
 */
#include "fuzz_common.h"

#include "craft/common.h"
#include "craft/router.h"

#define ALLOW_MAX 64

static const struct craft_route routes[] = {
    {.method = "GET", .pattern = "/"},
    {.method = "GET", .pattern = "/health"},
    {.method = "GET", .pattern = "/metrics"},
    {.method = "GET", .pattern = "/service.css"},
    {.method = "GET", .pattern = "/login"},
    {.method = "GET", .pattern = "/fragments/cards"},
    {.method = "POST", .pattern = "/auth/login"},
    {.method = "POST", .pattern = "/auth/logout"},
    {.method = "GET", .pattern = "/auth/status"},
    {.method = "POST", .pattern = "/api/auth/register"},
    {.method = "POST", .pattern = "/api/auth/login"},
    {.method = "GET", .pattern = "/.well-known/jwks.json"},
    {.method = "GET", .pattern = "/api/products"},
    {.method = "POST", .pattern = "/api/products", .role = "admin"},
    {.method = "GET", .pattern = "/api/products/{id}"},
    {.method = "PUT", .pattern = "/api/products/{id}", .role = "admin"},
    {.method = "DELETE", .pattern = "/api/products/{id}", .role = "admin"},
    {.method = "GET", .pattern = "/api/origamis/{id}"},
    {.method = "GET", .pattern = "/api/origamis/{id}/votes"},
    {.method = "POST", .pattern = "/api/origamis/{id}/vote", .role = "user"},
    {.method = "DELETE", .pattern = "/api/origamis/{id}/vote", .role = "user"},
    {.method = "GET", .pattern = "/api/votes/mine", .role = "user"},
    {.method = "GET", .pattern = "/api/origami-of-the-day"},
    {.method = "GET", .pattern = "/api/recommendations"},
    /* synthetic: five parameters, one more than a match can hold */
    {.method = "GET", .pattern = "/x/{a}/{b}/{c}/{d}/{e}"},
};

static size_t count_params(const char *pattern)
{
	size_t n = 0;
	for (; *pattern; pattern++)
		n += *pattern == '{';
	return n;
}

static void check_match(const struct craft_route_match *m, const char *method, const char *path)
{
	size_t path_len = strlen(path);

	fuzz_require(m->route >= routes && m->route < routes + CRAFT_ARRAY_LEN(routes),
		     "matched route is in the table");
	fuzz_require(strcmp(m->route->method, method) == 0 ||
			 (strcmp(method, "HEAD") == 0 && strcmp(m->route->method, "GET") == 0),
		     "matched route fits the method");
	fuzz_require(m->nparams <= CRAFT_ROUTE_MAX_PARAMS &&
			 m->nparams == count_params(m->route->pattern),
		     "every parameter of the pattern is captured");
	for (size_t i = 0; i < m->nparams; i++) {
		const struct craft_route_param *p = &m->params[i];
		fuzz_require(p->value >= path && p->value_len > 0 &&
				 p->value + p->value_len <= path + path_len,
			     "parameter value lies inside the path");
		fuzz_require(!memchr(p->value, '/', p->value_len),
			     "parameter value is one segment");
		fuzz_require(p->name > m->route->pattern && p->name[-1] == '{' &&
				 p->name[p->name_len] == '}',
			     "parameter name lies inside the pattern");
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	size_t allow_len = 1 + data[0] % ALLOW_MAX;
	char *input = fuzz_strndup(data + 1, size - 1);
	char *space = strchr(input, ' ');
	const char *method = "GET", *path = input;
	if (space) {
		*space = '\0';
		method = input;
		path = space + 1;
	}
	char *allow = malloc(allow_len);
	struct craft_route_match m;
	if (!allow)
		abort();
	memset(allow, 'x', allow_len);

	int rc =
	    craft_router_match(routes, CRAFT_ARRAY_LEN(routes), method, path, &m, allow, allow_len);
	fuzz_require(rc == CRAFT_OK || rc == CRAFT_ENOTFOUND || rc == CRAFT_EINVAL,
		     "router result code");
	fuzz_require(memchr(allow, '\0', allow_len) != NULL, "Allow is NUL-terminated");
	if (rc == CRAFT_OK)
		check_match(&m, method, path);
	if (rc == CRAFT_EINVAL)
		fuzz_require(allow_len < 2 || allow[0] != '\0', "a 405 lists the allowed methods");
	free(allow);
	free(input);
	return 0;
}
