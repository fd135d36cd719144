/* fuzz_proxy - trusted-proxy lists and X-Forwarded-For (lib/craft/proxy.h).
 *
 * Input: a network list, a newline, the peer, a newline, the header value.
 * Any input must be handled without a memory error. Properties: a list that
 * parses has at most CRAFT_PROXY_MAX_NETS networks; the client is always a
 * valid address in canonical form when the peer is one; an untrusted peer is
 * its own client whatever the header says.
 */
#include "fuzz_common.h"

#include "craft/common.h"
#include "craft/proxy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *input = fuzz_strndup(data, size);
	char *peer = strchr(input, '\n');
	char *xff = NULL;
	if (peer) {
		*peer++ = '\0';
		xff = strchr(peer, '\n');
		if (xff)
			*xff++ = '\0';
	}
	struct craft_proxy_list list;
	char err[128];
	if (craft_proxy_list_parse(input, &list, err, sizeof(err)) != CRAFT_OK)
		fuzz_require(list.count == 0, "a refused list is empty");
	fuzz_require(list.count <= CRAFT_PROXY_MAX_NETS, "the list is bounded");
	char client[CRAFT_ADDR_TEXT_MAX];
	unsigned char a[16], b[16];
	if (peer && craft_proxy_client(&list, peer, xff, client) == CRAFT_OK) {
		fuzz_require(craft_addr_parse(client, a) == CRAFT_OK, "the client is an address");
		char again[CRAFT_ADDR_TEXT_MAX];
		craft_addr_format(a, again);
		fuzz_require(strcmp(again, client) == 0, "the client is in canonical form");
		fuzz_require(craft_addr_parse(peer, b) == CRAFT_OK, "the peer is an address");
		fuzz_require(craft_proxy_list_contains(&list, b) || memcmp(a, b, 16) == 0,
			     "an untrusted peer is its own client");
	}
	free(input);
	return 0;
}
