/* top.h - the most-voted lists, kept rendered.
 *
 * Every request still reads the list from PostgreSQL (the order and the
 * counts are always current); what is kept is the JSON of the last list
 * served for each limit, reused when the rows just read are the same rows
 * (every field compared), so a request that finds nothing changed costs one
 * query and a comparison instead of building JSON. At most one list per
 * limit is kept (bounded by RECO_TOP_LIMIT_MAX).
 */
#ifndef RECO_TOP_H
#define RECO_TOP_H

#include <pthread.h>
#include <stddef.h>

#include "store.h"

#define RECO_TOP_LIMIT_MAX 50

struct reco_top_list; /* one rendered list, shared by reference */

struct reco_top_cache {
	pthread_mutex_t lock;
	struct reco_top_list *by_limit[RECO_TOP_LIMIT_MAX + 1];
};

void reco_top_init(struct reco_top_cache *c);
void reco_top_cleanup(struct reco_top_cache *c);

/* The JSON array of `items` (n of them, read for `limit`): the kept bytes when
 * they show the same rows, else freshly rendered (and kept for `limit`).
 * Returns a reference: the bytes are at *body (*len of them) until
 * reco_top_release(). */
struct reco_top_list *reco_top_render(struct reco_top_cache *c, long limit,
				      const struct reco_product *items, size_t n, const char **body,
				      size_t *len);

/* Drop a reference. NULL is fine. */
void reco_top_release(struct reco_top_list *list);

#endif
