#include "repr.h"

#include "craft/common.h"

#include <stdlib.h>
#include <string.h>

json_t *product_repr_json(const struct product *p)
{
	return json_pack("{s:I, s:s, s:s, s:s, s:I}", "id", (json_int_t)p->id, "name", p->name,
			 "description", p->description, "image_url", p->image_url, "votes",
			 (json_int_t)p->votes);
}

/* `j` (consumed) as compact bytes in the arena. */
static char *dump(craft_arena *a, json_t *j, size_t *len)
{
	char *text = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	if (!text)
		craft_oom(0);
	size_t n = strlen(text);
	char *copy = craft_arena_strndup(a, text, n);
	free(text);
	if (len)
		*len = n;
	return copy;
}

char *product_repr_render(craft_arena *a, const struct product *p, size_t *len)
{
	return dump(a, product_repr_json(p), len);
}

char *product_repr_render_list(craft_arena *a, const struct product *items, size_t count,
			       size_t *len)
{
	json_t *list = json_array();
	for (size_t i = 0; i < count; i++)
		json_array_append_new(list, product_repr_json(&items[i]));
	return dump(a, list, len);
}

int product_repr_decode(craft_arena *a, const char *json, size_t len, long long version,
			struct product *out)
{
	json_t *j = json_loadb(json, len, 0, NULL);
	if (!j)
		return CRAFT_EIO;
	json_int_t id = 0, votes = 0;
	const char *name = NULL, *desc = NULL, *img = NULL;
	int ok = json_unpack(j, "{s:I, s:s, s:s, s:s, s:I}", "id", &id, "name", &name,
			     "description", &desc, "image_url", &img, "votes", &votes) == 0;
	if (ok) {
		out->id = (long)id;
		out->votes = (long)votes;
		out->version = version;
		out->name = craft_arena_strdup(a, name);
		out->description = craft_arena_strdup(a, desc);
		out->image_url = craft_arena_strdup(a, img);
	}
	json_decref(j);
	return ok ? CRAFT_OK : CRAFT_EIO;
}
