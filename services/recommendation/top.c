#include "top.h"

#include "craft/common.h"

#include "render.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

struct reco_top_list {
	atomic_uint refs;
	size_t n;
	struct reco_product *rows; /* strings point into `strings` */
	char *strings;
	char *body;
	size_t body_len;
};

void reco_top_init(struct reco_top_cache *c)
{
	pthread_mutex_init(&c->lock, NULL);
	memset(c->by_limit, 0, sizeof(c->by_limit));
}

void reco_top_cleanup(struct reco_top_cache *c)
{
	for (size_t i = 0; i <= RECO_TOP_LIMIT_MAX; i++) {
		reco_top_release(c->by_limit[i]);
		c->by_limit[i] = NULL;
	}
	pthread_mutex_destroy(&c->lock);
}

void reco_top_release(struct reco_top_list *list)
{
	if (!list || atomic_fetch_sub_explicit(&list->refs, 1, memory_order_acq_rel) != 1)
		return;
	free(list->rows);
	free(list->strings);
	free(list->body);
	free(list);
}

static bool same_row(const struct reco_product *a, const struct reco_product *b)
{
	return a->id == b->id && a->version == b->version && a->votes == b->votes &&
	       strcmp(a->name, b->name) == 0 && strcmp(a->description, b->description) == 0 &&
	       strcmp(a->image_url, b->image_url) == 0;
}

static bool same_rows(const struct reco_top_list *list, const struct reco_product *items, size_t n)
{
	if (!list || list->n != n)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!same_row(&list->rows[i], &items[i]))
			return false;
	return true;
}

static char *render(const struct reco_product *items, size_t n, size_t *len)
{
	json_t *array = json_array();
	for (size_t i = 0; i < n; i++)
		if (!array || json_array_append_new(array, reco_product_json(&items[i])))
			craft_oom(0);
	return reco_json_text(array, len);
}

/* A list owning copies of the rows and their JSON. */
static struct reco_top_list *list_new(const struct reco_product *items, size_t n)
{
	struct reco_top_list *list = craft_xcalloc(1, sizeof(*list));
	atomic_init(&list->refs, 1);
	list->n = n;
	size_t total = 1;
	for (size_t i = 0; i < n; i++)
		total += strlen(items[i].name) + strlen(items[i].description) +
			 strlen(items[i].image_url) + 3;
	list->strings = craft_xmalloc(total);
	list->rows = craft_xcalloc(n ? n : 1, sizeof(*list->rows));
	char *w = list->strings;
	for (size_t i = 0; i < n; i++) {
		const char *src[3] = {items[i].name, items[i].description, items[i].image_url};
		const char *dst[3];
		for (size_t k = 0; k < 3; k++) {
			size_t l = strlen(src[k]) + 1;
			memcpy(w, src[k], l);
			dst[k] = w;
			w += l;
		}
		list->rows[i] = (struct reco_product){.id = items[i].id,
						      .name = dst[0],
						      .description = dst[1],
						      .image_url = dst[2],
						      .votes = items[i].votes,
						      .version = items[i].version};
	}
	list->body = render(list->rows, n, &list->body_len);
	return list;
}

struct reco_top_list *reco_top_render(struct reco_top_cache *c, long limit,
				      const struct reco_product *items, size_t n, const char **body,
				      size_t *len)
{
	bool keep = limit >= 1 && limit <= RECO_TOP_LIMIT_MAX;
	struct reco_top_list *list = NULL;
	if (keep) {
		pthread_mutex_lock(&c->lock);
		struct reco_top_list *kept = c->by_limit[limit];
		if (same_rows(kept, items, n)) {
			list = kept;
			atomic_fetch_add_explicit(&list->refs, 1, memory_order_relaxed);
		}
		pthread_mutex_unlock(&c->lock);
	}
	if (!list) {
		list = list_new(items, n);
		if (keep) {
			atomic_fetch_add_explicit(&list->refs, 1, memory_order_relaxed);
			pthread_mutex_lock(&c->lock);
			struct reco_top_list *old = c->by_limit[limit];
			c->by_limit[limit] = list;
			pthread_mutex_unlock(&c->lock);
			reco_top_release(old);
		}
	}
	*body = list->body;
	*len = list->body_len;
	return list;
}
