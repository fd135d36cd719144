/* render.h - a product as the API shows it: {id, name, description,
 * image_url, votes} (the version is internal and never shown). */
#ifndef RECO_RENDER_H
#define RECO_RENDER_H

#include <stddef.h>

#include <jansson.h>

#include "store.h"

/* A new JSON object (a reference the caller owns). Aborts on out of memory. */
json_t *reco_product_json(const struct reco_product *p);

/* `json` (a reference the function takes) as compact text: malloc'd, *len
 * bytes, NUL-terminated. Aborts on out of memory. */
char *reco_json_text(json_t *json, size_t *len);

#endif
