#include "access.h"

#include "craft/common.h"

#include <string.h>

static const char *const ranked[] = {"user", "admin"}; /* lowest first */

/* 1 + the role's rank, or 0 for a role that is not known. */
static size_t rank(const char *role)
{
	for (size_t i = 0; role && i < CRAFT_ARRAY_LEN(ranked); i++)
		if (strcmp(role, ranked[i]) == 0)
			return i + 1;
	return 0;
}

bool product_role_allows(const char *required, const char *held)
{
	size_t need = rank(required);
	return need > 0 && rank(held) >= need;
}
