/* access.h - who may use a route that names a role. Roles are ranked:
 * "user" < "admin". Fails closed: a required role or a held role that is not
 * one of these (or missing) never grants access. Pure; knows nothing of
 * HTTP or tokens. */
#ifndef PRODUCT_ACCESS_H
#define PRODUCT_ACCESS_H

#include <stdbool.h>

/* True when a caller holding `held` may use a route requiring `required`. */
bool product_role_allows(const char *required, const char *held);

#endif
