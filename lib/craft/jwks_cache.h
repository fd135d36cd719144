/* jwks_cache.h - verify Bearer tokens against a remote JWK set (auth's),
 * fetched at start and kept.
 *
 * The set is refreshed in the background every refresh interval (and every
 * couple of seconds while no set was ever obtained). A token whose kid is not
 * in the set triggers at most one fetch per `min_refetch_ms`, whatever the
 * number of requests asking at once (single flight): the others wait for that
 * fetch instead of starting their own. When the remote is down the last good
 * set keeps verifying; a failed or empty fetch never replaces it.
 */
#ifndef CRAFT_JWKS_CACHE_H
#define CRAFT_JWKS_CACHE_H

#include <stdbool.h>
#include <stddef.h>

#include "httpc.h"
#include "jwt.h"
#include "trace.h"

typedef struct craft_jwks_cache craft_jwks_cache;

struct craft_jwks_cache_options {
	const char *url;                     /* the JWK set document */
	craft_httpc *http;                   /* shared client (not owned) */
	unsigned refresh_s;                  /* periodic refresh; 0 = 300 */
	unsigned min_refetch_ms;             /* spacing of unknown-kid fetches; 0 = 10000 */
	unsigned timeout_ms;                 /* per fetch; 0 = 2000 */
	struct craft_jwt_verify_opts verify; /* issuer, audience, leeway */
};

/* Create the cache and start its refresher thread; the first fetch happens
 * in the background (craft_jwks_cache_ready() tells when a set is held).
 * Returns 0 and *out, or CRAFT_EINVAL / CRAFT_EIO. Strings are copied. */
int craft_jwks_cache_new(const struct craft_jwks_cache_options *opts, craft_jwks_cache **out);

/* Stop the refresher and free everything; no verify may be running. */
void craft_jwks_cache_free(craft_jwks_cache *cache);

/* Verify a compact token. Returns 0 with *claims (release with
 * craft_jwt_claims_cleanup), CRAFT_EUNAVAIL when no key set was ever
 * obtained, or craft_jwt_verify()'s result; *reason says why in a few words. */
int craft_jwks_cache_verify(craft_jwks_cache *cache, const craft_span *parent, const char *token,
			    size_t len, struct craft_jwt_claims *claims, const char **reason);

/* Whether a key set is held. */
bool craft_jwks_cache_ready(craft_jwks_cache *cache);

struct craft_jwks_cache_stats {
	unsigned keys;
	unsigned long fetches, fetch_failures, unknown_kid_fetches;
	unsigned long verified_hits; /* tokens accepted as already verified */
};
void craft_jwks_cache_stats(craft_jwks_cache *cache, struct craft_jwks_cache_stats *out);

#endif
