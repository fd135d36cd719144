/* fuzz_json_body - JSON request bodies as the services read them.
 *
 * craft_req_json_body() and the frontend hand a body to jansson's json_loadb()
 * with JSON_REJECT_DUPLICATES; this target does the same on bounded input.
 * A body that parses must serialise, parse back to an equal value, and
 * serialise again to the same text (the compact form is a fixed point).
 */
#include "fuzz_common.h"

#include <jansson.h>

#define BODY_MAX (64u * 1024u) /* the services' largest JSON body is smaller */

static char *dump(const json_t *value)
{
	char *text = json_dumps(value, JSON_COMPACT | JSON_ENCODE_ANY);
	fuzz_require(text != NULL, "a parsed value serialises");
	return text;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > BODY_MAX)
		return 0;
	json_error_t err;
	json_t *root = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, &err);
	if (!root) {
		fuzz_require(strnlen(err.text, sizeof(err.text)) < sizeof(err.text),
			     "error text is terminated");
		return 0;
	}
	fuzz_require(json_is_object(root) || json_is_array(root),
		     "without JSON_DECODE_ANY only objects and arrays load");
	char *first = dump(root);
	json_t *again = json_loads(first, JSON_REJECT_DUPLICATES, &err);
	fuzz_require(again != NULL, "serialised value parses");
	fuzz_require(json_equal(root, again), "round trip gives an equal value");
	char *second = dump(again);
	fuzz_require(strcmp(first, second) == 0, "compact text is a fixed point");
	free(second);
	free(first);
	json_decref(again);
	json_decref(root);
	return 0;
}
