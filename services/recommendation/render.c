#include "render.h"

#include "craft/common.h"

#include <string.h>

json_t *reco_product_json(const struct reco_product *p)
{
	json_t *o = json_pack("{s:I, s:s, s:s, s:s, s:I}", "id", (json_int_t)p->id, "name", p->name,
			      "description", p->description, "image_url", p->image_url, "votes",
			      (json_int_t)p->votes);
	if (!o) /* only on invalid UTF-8, which PostgreSQL never returns */
		craft_oom(0);
	return o;
}

char *reco_json_text(json_t *json, size_t *len)
{
	char *text = json_dumps(json, JSON_COMPACT);
	json_decref(json);
	if (!text)
		craft_oom(0);
	*len = strlen(text);
	return text;
}
