/* service_jwks.h - the token-verification opener of a service (see
 * service.h): the settings of auth's JWK set, the refreshing cache on an
 * outbound HTTP client, and the figures of both for /metrics (CMake target
 * craft-jwks, which brings craft-jwt and craft-httpc). */
#ifndef CRAFT_SERVICE_JWKS_H
#define CRAFT_SERVICE_JWKS_H

#include <stddef.h>

#include "httpc.h"
#include "jwks_cache.h"
#include "service.h"

/* Token verification settings: AUTH_SERVICE_URL, JWKS_URL (default
 * AUTH_SERVICE_URL/.well-known/jwks.json), JWT_ISSUER, JWT_AUDIENCE,
 * JWKS_REFRESH_SECONDS, JWKS_MIN_REFETCH_MS. */
struct craft_jwks_config {
	const char *auth_url;
	const char *jwks_url;
	const char *issuer;
	const char *audience;
	long refresh_s;
	long min_refetch_ms;
};

/* Read those settings and start a JWKS cache on `http` (see jwks_cache.h).
 * Returns 0, or CRAFT_EINVAL / CRAFT_EIO with the reason in err. */
int craft_service_open_jwks(struct craft_service *svc, struct craft_jwks_config *cfg,
			    craft_httpc *http, craft_jwks_cache **out, char *err, size_t err_len);
void craft_service_close_jwks(struct craft_jwks_config *cfg, craft_jwks_cache *cache);

#endif
