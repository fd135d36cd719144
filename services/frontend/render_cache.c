/* render_cache.c - rendered pages kept by content key (see render_cache.h). */
#include "render_cache.h"

#include "craft/common.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void render_cache_init(struct render_cache *c)
{
	memset(c, 0, sizeof(*c));
	pthread_mutex_init(&c->mu, NULL);
}

void render_blob_release(struct render_blob *b)
{
	if (b && atomic_fetch_sub_explicit(&b->refs, 1, memory_order_acq_rel) == 1)
		free(b);
}

void render_cache_cleanup(struct render_cache *c)
{
	for (size_t i = 0; i < RENDER_CACHE_SLOTS; i++)
		render_blob_release(c->slots[i].blob);
	pthread_mutex_destroy(&c->mu);
}

struct render_blob *render_cache_get(struct render_cache *c, const char *key)
{
	struct render_blob *found = NULL;
	pthread_mutex_lock(&c->mu);
	for (size_t i = 0; i < RENDER_CACHE_SLOTS; i++) {
		struct render_slot *s = &c->slots[i];
		if (s->blob && strcmp(s->key, key) == 0) {
			s->used = ++c->clock;
			found = s->blob;
			atomic_fetch_add_explicit(&found->refs, 1, memory_order_relaxed);
			break;
		}
	}
	pthread_mutex_unlock(&c->mu);
	atomic_fetch_add_explicit(found ? &c->hits : &c->misses, 1, memory_order_relaxed);
	return found;
}

void render_cache_put(struct render_cache *c, const char *key, const char *data, size_t len)
{
	if (strlen(key) >= RENDER_CACHE_KEY_MAX)
		return;
	struct render_blob *b = craft_xmalloc(sizeof(*b) + len);
	atomic_init(&b->refs, 1);
	b->len = len;
	memcpy(b->data, data, len);
	struct render_blob *old = NULL;
	pthread_mutex_lock(&c->mu);
	struct render_slot *victim = &c->slots[0];
	for (size_t i = 0; i < RENDER_CACHE_SLOTS; i++) {
		struct render_slot *s = &c->slots[i];
		if (s->blob && strcmp(s->key, key) == 0) {
			victim = s; /* a racing render of the same page: replace it */
			break;
		}
		if (!s->blob || s->used < victim->used)
			victim = s;
		if (!s->blob)
			break;
	}
	old = victim->blob;
	snprintf(victim->key, sizeof(victim->key), "%s", key);
	victim->blob = b;
	victim->used = ++c->clock;
	pthread_mutex_unlock(&c->mu);
	render_blob_release(old);
}
