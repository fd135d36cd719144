#include "catalog.h"

#include "craft/common.h"

int product_catalog_vote(const struct product_catalog *c, craft_arena *a, const craft_span *s,
			 long id, const char *user, bool add, struct vote_result *out)
{
	int rc = (add ? store_vote : store_unvote)(c->pg, a, s, id, user, out);
	if (rc == CRAFT_OK) /* committed: the cache holds this version before any reply */
		product_cache_put(c->cache, a, s, &out->product);
	return rc;
}

int product_catalog_create(const struct product_catalog *c, craft_arena *a, const craft_span *s,
			   const struct product_fields *f, struct product *out)
{
	int rc = store_create(c->pg, a, s, f->name, f->description ? f->description : "",
			      f->image_url ? f->image_url : "", out);
	if (rc == CRAFT_OK)
		product_cache_put(c->cache, a, s, out);
	return rc;
}

int product_catalog_update(const struct product_catalog *c, craft_arena *a, const craft_span *s,
			   long id, const struct product_fields *f, struct product *out)
{
	int rc = store_update(c->pg, a, s, id, f->name, f->description, f->image_url, out);
	if (rc == CRAFT_OK)
		product_cache_put(c->cache, a, s, out);
	return rc;
}

int product_catalog_delete(const struct product_catalog *c, craft_arena *a, const craft_span *s,
			   long id)
{
	long long version = 0;
	int rc = store_delete(c->pg, a, s, id, &version);
	if (rc == CRAFT_OK)
		product_cache_deleted(c->cache, a, s, id, version);
	return rc;
}
