/* entry.h - the product cache's entries and entity tags: pure encoding, no I/O.
 *
 * A product entry is "<version>|<payload>": the version that guards it, then
 * the product exactly as the API sends it (so a hit is served as stored,
 * never parsed). An empty payload marks a deleted product.
 *
 * The list entry is "<generation>|" while invalid, or
 * "<generation>|<etag>|<list JSON>" once filled. A generation is an opaque
 * token that is never reused (product_token_format); it holds no '|'.
 *
 * Entity tags are strong and quoted: "p<version>" for one product (versions
 * come from one sequence, so they never repeat), and "l<hash>" for the list,
 * a SHA-256 prefix of its (id, version) pairs, so it changes whenever a row
 * does and does not depend on anything Redis keeps.
 */
#ifndef PRODUCT_ENTRY_H
#define PRODUCT_ENTRY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store.h"

#define PRODUCT_ETAG_MAX  48 /* quotes, a letter, 32 hex digits or a version, NUL */
#define PRODUCT_TOKEN_MAX 48 /* a list generation, NUL included */

/* Split a product entry. CRAFT_OK with *version and the payload (*payload
 * points into `s`, *payload_len 0 for a deleted product); CRAFT_EINVAL when
 * malformed. */
int product_entry_item(const char *s, size_t len, long long *version, const char **payload,
		       size_t *payload_len);

/* A list entry, split; pointers into the entry. */
struct product_list_entry {
	const char *gen;
	size_t gen_len;
	bool valid; /* etag and json are set */
	const char *etag;
	size_t etag_len;
	const char *json;
	size_t json_len;
};

/* Split a list entry. CRAFT_OK, or CRAFT_EINVAL when malformed (no generation, an empty or
 * oversized one, or a filled entry without its ETag). */
int product_entry_list(const char *s, size_t len, struct product_list_entry *out);

/* "\"p<version>\"" into out. */
void product_etag_item(char out[PRODUCT_ETAG_MAX], long long version);

/* "\"l<32 hex digits>\"" from the (id, version) pairs of `items` in order. */
void product_etag_list(char out[PRODUCT_ETAG_MAX], const struct product *items, size_t count);

/* A generation token: `prefix` (random per process) and a counter, as
 * "<prefix>.<seq>". Unique while prefixes do not collide. */
void product_token_format(char out[PRODUCT_TOKEN_MAX], const char *prefix, unsigned long long seq);

/* Write `prefix KEY_ID` style keys without printf: `prefix` then the decimal
 * id. Returns the length, or 0 when it does not fit. */
size_t product_key(char *out, size_t out_len, const char *prefix, long id);

#endif
