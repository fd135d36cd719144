#include "router.h"

#include "common.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

/* Match `path` (of length path_len) against `pattern`, collecting parameters. */
static bool pattern_match(const char *pattern, const char *path, size_t path_len,
			  struct craft_route_match *m)
{
	const char *p = pattern;
	const char *s = path;
	const char *end = path + path_len;
	m->nparams = 0;
	while (*p && s < end) {
		if (*p == '{') {
			const char *close = strchr(p, '}');
			if (!close || m->nparams == CRAFT_ROUTE_MAX_PARAMS)
				return false;
			const char *seg_end = memchr(s, '/', (size_t)(end - s));
			if (!seg_end)
				seg_end = end;
			if (seg_end == s)
				return false; /* empty segment */
			struct craft_route_param *prm = &m->params[m->nparams++];
			prm->name = p + 1;
			prm->name_len = (size_t)(close - p - 1);
			prm->value = s;
			prm->value_len = (size_t)(seg_end - s);
			p = close + 1;
			s = seg_end;
			continue;
		}
		if (*p != *s)
			return false;
		p++;
		s++;
	}
	return *p == '\0' && s == end;
}

static bool method_matches(const char *route_method, const char *method)
{
	if (strcmp(route_method, method) == 0)
		return true;
	return strcmp(method, "HEAD") == 0 && strcmp(route_method, "GET") == 0;
}

static void allow_add(char *allow, size_t allow_len, const char *method)
{
	if (!allow || allow_len == 0)
		return;
	/* skip duplicates */
	size_t mlen = strlen(method);
	for (const char *a = allow; (a = strstr(a, method)) != NULL; a += mlen) {
		bool starts = a == allow || a[-1] == ' ';
		bool ends = a[mlen] == ',' || a[mlen] == '\0';
		if (starts && ends)
			return;
	}
	size_t used = strlen(allow);
	snprintf(allow + used, allow_len - used, "%s%s", used ? ", " : "", method);
}

int craft_router_match(const struct craft_route *routes, size_t count, const char *method,
		       const char *path, struct craft_route_match *match, char *allow,
		       size_t allow_len)
{
	if (allow && allow_len)
		allow[0] = '\0';
	size_t path_len = strnlen(path, CRAFT_ROUTE_MAX_PATH + 1);
	if (path_len > CRAFT_ROUTE_MAX_PATH || path_len == 0 || path[0] != '/')
		return CRAFT_ENOTFOUND;
	if (path_len > 1 && path[path_len - 1] == '/')
		path_len--;
	bool path_seen = false;
	struct craft_route_match m;
	for (size_t i = 0; i < count; i++) {
		if (!pattern_match(routes[i].pattern, path, path_len, &m))
			continue;
		if (method_matches(routes[i].method, method)) {
			m.route = &routes[i];
			*match = m;
			return CRAFT_OK;
		}
		path_seen = true;
		allow_add(allow, allow_len, routes[i].method);
		if (strcmp(routes[i].method, "GET") == 0)
			allow_add(allow, allow_len, "HEAD");
	}
	return path_seen ? CRAFT_EINVAL : CRAFT_ENOTFOUND;
}
