/* fuzz_template - the HTML template parser and renderer (lib/craft/template.h).
 *
 * The input is parsed as a template; one that parses is rendered twice with
 * a small fixed context (strings needing escapes, numbers, booleans, arrays,
 * nested objects) into a bounded buffer, with a fixed set of partials. The two
 * renders must agree; a failed render leaves the buffer empty; a template
 * without "{{" renders as itself.
 */
#include "fuzz_common.h"

#include "craft/buf.h"
#include "craft/common.h"
#include "craft/template.h"

#include <jansson.h>

#define OUT_MAX (64u * 1024u)

static const char context_json[] =
    "{\"title\":\"<b>Tom & \\\"Jerry\\\"</b>\",\"n\":3,\"pi\":3.25,\"neg\":-1,"
    "\"yes\":true,\"no\":false,\"nothing\":null,\"empty\":[],\"blank\":\"\",\"zero\":0,"
    "\"html\":\"<i>trusted</i>\",\"user\":{\"name\":\"ann\",\"role\":\"admin\","
    "\"tags\":[\"a\",\"b\"]},\"items\":[{\"name\":\"crane\",\"price\":12.5,\"ok\":true},"
    "{\"name\":\"frog=`'\",\"price\":0,\"ok\":false},\"plain\",7]}";

static const char card[] = "<li>{{name}} {{price}}{{#ok}}!{{/ok}}</li>";
static const char list[] = "<ul>{{#items}}{{> card}}{{/items}}</ul>";
static const struct craft_template_source partial_sources[] = {
    {.name = "card", .text = card, .len = sizeof(card) - 1},
    {.name = "list", .text = list, .len = sizeof(list) - 1},
};

/* Built once before the first input, read-only afterwards. */
static json_t *context;
static craft_template_set *partials;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char err[256];

	(void)argc;
	(void)argv;
	context = json_loads(context_json, 0, NULL);
	if (!context || craft_template_set_new(partial_sources, CRAFT_ARRAY_LEN(partial_sources),
					       &partials, err, sizeof(err)) != CRAFT_OK) {
		fprintf(stderr, "fuzz_template set-up: %s\n", context ? err : "bad context JSON");
		abort();
	}
	return 0;
}

static void render(const craft_template *t, const char *text, size_t len)
{
	craft_buf a, b;

	craft_buf_init(&a, OUT_MAX);
	craft_buf_init(&b, OUT_MAX);
	int rc = craft_template_render(t, partials, context, &a);
	int rc2 = craft_template_render(t, partials, context, &b);
	fuzz_require(rc == CRAFT_OK || rc == CRAFT_ETOOBIG || rc == CRAFT_ENOTFOUND,
		     "render result code");
	fuzz_require(rc == rc2 && a.len == b.len &&
			 (a.len == 0 || memcmp(a.data, b.data, a.len) == 0),
		     "rendering is deterministic");
	fuzz_require(a.len <= OUT_MAX, "output stays within the buffer bound");
	if (rc != CRAFT_OK)
		fuzz_require(a.len == 0, "a failed render leaves the buffer as it was");
	if (len <= OUT_MAX && !memmem(text, len, "{{", 2))
		fuzz_require(rc == CRAFT_OK && a.len == len &&
				 (len == 0 || memcmp(a.data, text, len) == 0),
			     "plain text renders as itself");
	craft_buf_cleanup(&b);
	craft_buf_cleanup(&a);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data;
	craft_template *t = NULL;
	char err[256];

	int rc = craft_template_parse("fuzz", text, size, &t, err, sizeof(err));
	if (rc != CRAFT_OK) {
		fuzz_require((rc == CRAFT_EINVAL || rc == CRAFT_ETOOBIG) && t == NULL,
			     "parse result code");
		fuzz_require(strnlen(err, sizeof(err)) < sizeof(err) &&
				 strncmp(err, "fuzz:", 5) == 0,
			     "parse error names the template");
		return 0;
	}
	render(t, text, size);
	craft_template_free(t);
	return 0;
}
