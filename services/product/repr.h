/* repr.h - the product as the API represents it: JSON objects and the exact
 * bytes a reply sends. The cache stores these bytes as the payload of its
 * entries (entry.h) so that a hit is sent as stored; the encoding of an
 * entry around them is the cache's own. Knows nothing of HTTP or Redis. */
#ifndef PRODUCT_REPR_H
#define PRODUCT_REPR_H

#include <stddef.h>

#include <jansson.h>

#include "craft/arena.h"

#include "store.h"

/* The product as the API's JSON object (new reference). */
json_t *product_repr_json(const struct product *p);

/* The product as the API's bytes (compact JSON, NUL-terminated, in the
 * arena); *len (when not NULL) gets their length. */
char *product_repr_render(craft_arena *a, const struct product *p, size_t *len);

/* `count` products as the API's JSON array, bytes as above. */
char *product_repr_render_list(craft_arena *a, const struct product *items, size_t count,
			       size_t *len);

/* The fields of a product from its API bytes (`len` bytes, no NUL needed);
 * strings in the arena, version set to `version`. 0, or CRAFT_EIO when the
 * bytes are not a product. */
int product_repr_decode(craft_arena *a, const char *json, size_t len, long long version,
			struct product *out);

#endif
