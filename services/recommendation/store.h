/* store.h - recommendation's reads from PostgreSQL (products table).
 * Knows SQL and rows, nothing of HTTP or JSON. */
#ifndef RECO_STORE_H
#define RECO_STORE_H

#include <stddef.h>

#include "craft/arena.h"
#include "craft/pg.h"
#include "craft/trace.h"

struct reco_product {
	long id;
	const char *name;
	const char *description;
	const char *image_url;
	long votes;
	long long version; /* products.version: grows with every change */
};

/* The statements this store uses, for craft_pg_pool_new(). */
extern const struct craft_pg_stmt reco_store_stmts[];
extern const size_t reco_store_nstmts;

/* The `limit` most-voted products (ties by id) into an arena array.
 * Returns 0 with *out and *count, or a craft_pg result code. */
int reco_store_top(craft_pg_pool *pg, craft_arena *arena, const craft_span *span, long limit,
		   struct reco_product **out, size_t *count);

/* The pick recorded for `day` ("YYYY-MM-DD"), recording the product at
 * position `index` (taken modulo the catalogue size, in id order) first if the
 * day has none. CRAFT_ENOTFOUND for an empty catalogue (or a pick lost to a
 * concurrent delete: call again). */
int reco_store_daily(craft_pg_pool *pg, craft_arena *arena, const craft_span *span, const char *day,
		     long index, struct reco_product *out);

/* One product by id; CRAFT_ENOTFOUND when absent. */
int reco_store_get(craft_pg_pool *pg, craft_arena *arena, const craft_span *span, long id,
		   struct reco_product *out);

#endif
