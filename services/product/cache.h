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
 * also withdraws trust until a repair pass, in case it kept old entries. docs/product-cache.md has
 * the argument in full.
 */
#ifndef PRODUCT_CACHE_H
#define PRODUCT_CACHE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

#include <jansson.h>

#include "craft/redis.h"

#include "store.h"

struct product_cache {
	craft_redis_pool *redis;
	craft_pg_pool *pg;
	long ttl_s;
	unsigned repair_interval_ms;
	atomic_bool trusted;
	atomic_ulong epoch_seen; /* Redis instance epoch the last repair pass saw */
	atomic_ulong hits, misses, bypassed, write_failures, repaired;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	bool stopping;
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
 * PostgreSQL's. Strings live in the arena. */
int product_cache_get(struct product_cache *c, craft_arena *a, const craft_span *s, long id,
		      struct product *out);

/* After a committed change: bring the entry up to `p` (or mark the product
 * deleted at `version`); on failure note a repair. Never fails the caller. */
void product_cache_put(struct product_cache *c, craft_arena *a, const craft_span *s,
		       const struct product *p);
void product_cache_deleted(struct product_cache *c, craft_arena *a, const craft_span *s, long id,
			   long long version);

/* The product as the API's JSON object (new reference). */
json_t *product_json(const struct product *p);

#endif
