/* store.h - product's PostgreSQL storage: products and per-user votes.
 * SQL and rows only; nothing of HTTP, JSON or the cache. Every change to a
 * product takes a fresh version from product_version_seq (see migration 004). */
#ifndef PRODUCT_STORE_H
#define PRODUCT_STORE_H

#include <stdbool.h>
#include <stddef.h>

#include "craft/arena.h"
#include "craft/pg.h"
#include "craft/trace.h"

struct product {
	long id;
	const char *name;
	const char *description;
	const char *image_url;
	long votes;
	long long version;
};

/* What a vote or a withdrawal did. */
struct vote_result {
	struct product product; /* the row after the change (or as it was) */
	bool changed;           /* false: the user had already voted / had not voted */
};

extern const struct craft_pg_stmt product_store_stmts[];
extern const size_t product_store_nstmts;

/* All products ordered by id, in the arena. */
int store_list(craft_pg_pool *pg, craft_arena *a, const craft_span *s, struct product **out,
	       size_t *count);

/* One product; CRAFT_ENOTFOUND when absent. */
int store_get(craft_pg_pool *pg, craft_arena *a, const craft_span *s, long id, struct product *out);

/* Record `user`'s vote (or withdraw it) and adjust the count in one
 * statement. CRAFT_ENOTFOUND when the product does not exist. */
int store_vote(craft_pg_pool *pg, craft_arena *a, const craft_span *s, long id, const char *user,
	       struct vote_result *out);
int store_unvote(craft_pg_pool *pg, craft_arena *a, const craft_span *s, long id, const char *user,
		 struct vote_result *out);

/* Whether `user` has voted for product `id`. */
int store_has_voted(craft_pg_pool *pg, craft_arena *a, const craft_span *s, long id,
		    const char *user, bool *voted);

/* The ids `user` has voted for, ascending. */
int store_votes_of(craft_pg_pool *pg, craft_arena *a, const craft_span *s, const char *user,
		   long **ids, size_t *count);

/* Admin changes. Create allocates the id; update replaces the fields that are
 * not NULL (CRAFT_ENOTFOUND when absent); delete returns the version its removal
 * took (for the cache's tombstone). */
int store_create(craft_pg_pool *pg, craft_arena *a, const craft_span *s, const char *name,
		 const char *description, const char *image_url, struct product *out);
int store_update(craft_pg_pool *pg, craft_arena *a, const craft_span *s, long id, const char *name,
		 const char *description, const char *image_url, struct product *out);
int store_delete(craft_pg_pool *pg, craft_arena *a, const craft_span *s, long id,
		 long long *version);

/* Cache repair bookkeeping: note that product `id` changed to `version` but
 * its cache entry could not be updated; list what is pending (the highest
 * version per product); forget entries up to a version once repaired. */
int store_repair_note(craft_pg_pool *pg, craft_arena *a, const craft_span *s, long id,
		      long long version);
struct repair {
	long id;
	long long version;
};
int store_repair_pending(craft_pg_pool *pg, craft_arena *a, const craft_span *s,
			 struct repair **out, size_t *count);
int store_repair_done(craft_pg_pool *pg, craft_arena *a, const craft_span *s, long id,
		      long long version);

#endif
