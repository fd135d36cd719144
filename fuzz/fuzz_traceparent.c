/* fuzz_traceparent - W3C trace context headers (lib/craft/trace.h).
 *
 * Input: the traceparent value, a newline, then the tracestate value (no
 * newline: traceparent only, tracestate empty). A traceparent that parses
 * must format and re-parse to the same ids and flags, and a version-00 value
 * must format back to itself. A tracestate that parses is stored within its
 * bound and is a fixed point: parsing the stored copy gives it again.
 */
#include "fuzz_common.h"

#include "craft/common.h"
#include "craft/trace.h"

static void check_traceparent(const char *value, size_t len)
{
	craft_trace_ctx ctx, again;
	char text[CRAFT_TRACEPARENT_LEN + 1];

	memset(&ctx, 0x5a, sizeof(ctx));
	int rc = craft_traceparent_parse(value, len, &ctx);
	fuzz_require(rc == CRAFT_OK || rc == CRAFT_EINVAL, "traceparent result code");
	if (rc)
		return;
	fuzz_require(ctx.tracestate[0] == '\0', "traceparent clears tracestate");
	craft_traceparent_format(&ctx, text);
	fuzz_require(strlen(text) == CRAFT_TRACEPARENT_LEN, "formatted traceparent length");
	fuzz_require(craft_traceparent_parse(text, strlen(text), &again) == CRAFT_OK,
		     "formatted traceparent parses");
	fuzz_require(memcmp(ctx.trace_id, again.trace_id, sizeof(ctx.trace_id)) == 0 &&
			 memcmp(ctx.span_id, again.span_id, sizeof(ctx.span_id)) == 0 &&
			 ctx.flags == again.flags,
		     "traceparent round trip keeps ids and flags");
	if (len == CRAFT_TRACEPARENT_LEN && value[0] == '0' && value[1] == '0')
		fuzz_require(memcmp(text, value, len) == 0, "version 00 formats back to itself");
}

static void check_tracestate(const char *value, size_t len)
{
	craft_trace_ctx ctx, again;

	memset(&ctx, 0x5a, sizeof(ctx));
	int rc = craft_tracestate_parse(value, len, &ctx);
	size_t stored = strnlen(ctx.tracestate, sizeof(ctx.tracestate));
	fuzz_require(stored <= CRAFT_TRACESTATE_MAX, "tracestate is NUL-terminated in bounds");
	if (rc != CRAFT_OK) {
		fuzz_require(rc == CRAFT_EINVAL && stored == 0, "rejected tracestate is empty");
		return;
	}
	fuzz_require(stored <= len, "stored tracestate is no longer than the input");
	fuzz_require(craft_tracestate_parse(ctx.tracestate, stored, &again) == CRAFT_OK,
		     "stored tracestate parses again");
	fuzz_require(strcmp(ctx.tracestate, again.tracestate) == 0,
		     "stored tracestate is a fixed point");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data;
	const char *nl = memchr(text, '\n', size);
	size_t parent_len = nl ? (size_t)(nl - text) : size;

	check_traceparent(text, parent_len);
	if (nl)
		check_tracestate(nl + 1, size - parent_len - 1);
	else
		check_tracestate(text, size);
	return 0;
}
