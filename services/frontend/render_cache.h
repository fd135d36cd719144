/* render_cache.h - pages rendered once and served again while nothing they
 * show has changed.
 *
 * The key names everything a page depends on (e.g. the serials of the
 * catalogue and daily answers, the page number, the status board's
 * generation), so an entry is never stale: a change makes a new key. Only
 * pages that are the same for every visitor (no session, no flash) are
 * kept. A small fixed number of entries, least recently used replaced.
 */
#ifndef FRONTEND_RENDER_CACHE_H
#define FRONTEND_RENDER_CACHE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RENDER_CACHE_SLOTS   16
#define RENDER_CACHE_KEY_MAX 128

/* Rendered bytes shared by the cache and the replies using them. */
struct render_blob {
	atomic_uint refs;
	size_t len;
	char data[];
};

struct render_slot {
	char key[RENDER_CACHE_KEY_MAX];
	struct render_blob *blob; /* NULL: empty slot */
	uint64_t used;
};

struct render_cache {
	pthread_mutex_t mu;
	struct render_slot slots[RENDER_CACHE_SLOTS];
	uint64_t clock;
	atomic_ulong hits, misses;
};

void render_cache_init(struct render_cache *c);
void render_cache_cleanup(struct render_cache *c);

/* The entry for `key` (a reference: release it), or NULL. */
struct render_blob *render_cache_get(struct render_cache *c, const char *key);

/* Keep a copy of `len` bytes under `key` (longer keys are not kept). */
void render_cache_put(struct render_cache *c, const char *key, const char *data, size_t len);

void render_blob_release(struct render_blob *b);

#endif
