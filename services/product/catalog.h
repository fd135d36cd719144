/* catalog.h - product's domain rules for changes to the catalogue: every
 * committed change (a vote, a withdrawal, an edit, a creation, a deletion)
 * is carried to the cache in the same call, before the caller answers, so
 * that no acknowledged change is ever missing from what readers are served
 * (see cache.h). Knows nothing of HTTP. */
#ifndef PRODUCT_CATALOG_H
#define PRODUCT_CATALOG_H

#include <stdbool.h>

#include "craft/arena.h"
#include "craft/pg.h"
#include "craft/trace.h"

#include "cache.h"
#include "store.h"

struct product_catalog {
	craft_pg_pool *pg;
	struct product_cache *cache;
};

/* The fields of a creation or an edit; NULL: absent (an edit keeps the
 * field; a creation stores ""). */
struct product_fields {
	const char *name, *description, *image_url;
};

/* Record `user`'s vote (`add`) or withdraw it, then update the cache.
 * CRAFT_ENOTFOUND when the product does not exist, else a craft_pg error;
 * the cache never fails the call (cache.h notes a repair). */
int product_catalog_vote(const struct product_catalog *c, craft_arena *a, const craft_span *s,
			 long id, const char *user, bool add, struct vote_result *out);

/* Create a product (f->name required) and cache it. */
int product_catalog_create(const struct product_catalog *c, craft_arena *a, const craft_span *s,
			   const struct product_fields *f, struct product *out);

/* Change the fields given, then update the cache. CRAFT_ENOTFOUND when
 * absent. */
int product_catalog_update(const struct product_catalog *c, craft_arena *a, const craft_span *s,
			   long id, const struct product_fields *f, struct product *out);

/* Delete a product, then mark it deleted in the cache. CRAFT_ENOTFOUND when
 * absent. */
int product_catalog_delete(const struct product_catalog *c, craft_arena *a, const craft_span *s,
			   long id);

#endif
