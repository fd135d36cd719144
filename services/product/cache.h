/* cache.h - cache-aside for products in Redis that is never stale.
 *
 * Entries are "<version>|<product JSON>" under craftista:v1:product:<id>
 * ("<version>|" alone marks a deleted product). Every write to Redis is a
 * compare-and-set by version in a Lua script: an entry is only replaced by a
 * newer one. So a reader that loaded an old row can never overwrite a newer
 * count, whatever the interleaving, and a writer's update is in Redis before
 * its 200 is sent.
 *
 * When a writer cannot update Redis after its commit (Redis down, timeout),
 * it records the product in cache_repair (PostgreSQL) and this replica stops
 * trusting the cache: reads go to PostgreSQL until the repair thread has
 * rewritten every listed entry from PostgreSQL. Every replica starts
 * untrusted and runs the same repair, so entries written before or during an
 * outage are never served once Redis returns. A Redis restart (a new run_id)
 * also withdraws trust until a repair pass, in case it kept old entries.
 *
 * The list lives in one entry, craftista:v1:products, guarded by a generation
 * token instead of a version: a writer's compare-and-set also replaces the
 * list with a fresh, invalid generation (one script, one round trip); a
 * reader that finds it invalid notes the generation, reads PostgreSQL, and
 * stores what it read only if the generation is still the one it noted.
 * docs/product-cache.md has the argument in full.
 */
#ifndef PRODUCT_CACHE_H
#define PRODUCT_CACHE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "craft/redis.h"

#include "entry.h"
#include "store.h"

struct product_cache {
	craft_redis_pool *redis;
	craft_pg_pool *pg;
	long ttl_s;
	unsigned repair_interval_ms;
	atomic_bool trusted;
	atomic_ulong epoch_seen; /* Redis instance epoch the last repair pass saw */
	atomic_ulong hits, misses, bypassed, write_failures, repaired;
	atomic_ulong list_hits, list_misses, list_fills, list_shared;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	bool stopping;
	char token_prefix[24]; /* random per process: list generations never repeat */
	atomic_ullong token_seq;
	struct product_list_flight *flight; /* one list read from PostgreSQL at a time */
};

/* One product as served: the version that guards it and its API bytes
 * (repr.h), which are also the payload of its entry. */
struct product_view {
	long long version;
	const char *json; /* not NUL-terminated; lives in the arena */
	size_t len;
};

/* The list as served. */
struct product_list_view {
	char etag[PRODUCT_ETAG_MAX];
	const char *json; /* not NUL-terminated; lives in the arena */
	size_t len;
};

/* The Lua scripts the cache runs, for craft_redis_pool_new(). */
extern const struct craft_redis_script product_cache_scripts[];
extern const size_t product_cache_nscripts;

/* Start the repair thread (the cache is untrusted until its first pass). */
int product_cache_start(struct product_cache *c, craft_redis_pool *redis, craft_pg_pool *pg,
			long ttl_s, unsigned repair_interval_ms);
void product_cache_stop(struct product_cache *c);

/* One product: from Redis when trusted and present, else from PostgreSQL
 * (filling Redis). CRAFT_ENOTFOUND when absent or deleted; other errors are
 * PostgreSQL's. The bytes live in the arena and are never parsed here. */
int product_cache_get(struct product_cache *c, craft_arena *a, const craft_span *s, long id,
		      struct product_view *out);

/* The fields of a view (parses its bytes with product_repr_decode; strings
 * in the arena). 0, or CRAFT_EIO when the bytes are not a product. */
int product_view_decode(craft_arena *a, const struct product_view *v, struct product *out);

/* From Redis alone, without blocking on PostgreSQL: one product (as
 * product_cache_get) and the list (as product_cache_list below). 0 (and
 * CRAFT_ENOTFOUND for a deleted product) when the cache answered,
 * CRAFT_EUNAVAIL when only the calls above can (untrusted cache, missing or
 * invalid entry, Redis failing). */
int product_cache_peek(struct product_cache *c, craft_arena *a, const craft_span *s, long id,
		       struct product_view *out);
int product_cache_list_peek(struct product_cache *c, craft_arena *a, const craft_span *s,
			    struct product_list_view *out);

/* Every product, ordered by id, with its ETag: from Redis when trusted and
 * valid, else from PostgreSQL (filling Redis when no writer intervened).
 * `started_ns` (CLOCK_MONOTONIC) is when the request began: a concurrent
 * read of PostgreSQL is shared only when it began later, and when trusted
 * only when it began after this call read the list's generation. Errors
 * are PostgreSQL's. */
int product_cache_list(struct product_cache *c, craft_arena *a, const craft_span *s,
		       uint64_t started_ns, struct product_list_view *out);

/* CLOCK_MONOTONIC in nanoseconds. */
uint64_t product_cache_now_ns(void);

/* After a committed change: bring the entry up to `p` (or mark the product
 * deleted at `version`) and invalidate the list, in one round trip; on
 * failure note a repair. Never fails the caller. */
void product_cache_put(struct product_cache *c, craft_arena *a, const craft_span *s,
		       const struct product *p);
void product_cache_deleted(struct product_cache *c, craft_arena *a, const craft_span *s, long id,
			   long long version);

#endif
