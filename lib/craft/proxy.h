/* proxy.h - who the client is behind trusted reverse proxies.
 *
 * A service behind a load balancer sees the balancer as its TCP peer. The
 * balancer reports the address it saw in X-Forwarded-For, appending to what
 * the client sent, so only the right-most entries that trusted proxies wrote
 * can be believed. A list of trusted networks (CIDRs) decides which. */
#ifndef CRAFT_PROXY_H
#define CRAFT_PROXY_H

#include <stdbool.h>
#include <stddef.h>

#include <netinet/in.h>

#define CRAFT_PROXY_MAX_NETS 32
/* Room for any address as text (INET6_ADDRSTRLEN), NUL included. */
#define CRAFT_ADDR_TEXT_MAX 46

struct craft_net {
	unsigned char addr[16]; /* IPv4 as an IPv4-mapped IPv6 address */
	unsigned prefix;        /* bits of addr that must match, 0-128 */
};

struct craft_proxy_list {
	struct craft_net nets[CRAFT_PROXY_MAX_NETS];
	size_t count;
};

/* Parse a comma-separated list of networks ("10.0.0.0/8, 192.168.1.7,
 * fd00::/8"); a bare address is a network of one. Spaces around entries are
 * ignored; an empty or blank text is an empty list. Returns 0, or
 * CRAFT_EINVAL with a message naming the bad entry in err (entries past
 * CRAFT_PROXY_MAX_NETS, a bad address, a prefix out of range, host bits set
 * beyond the prefix). *out is left empty on error. */
int craft_proxy_list_parse(const char *text, struct craft_proxy_list *out, char *err,
			   size_t err_len);

/* Parse an IPv4 or IPv6 address (no brackets, no port) into its 16-byte
 * IPv4-mapped form. Returns 0, or CRAFT_EINVAL. */
int craft_addr_parse(const char *text, unsigned char out[16]);

/* Write the canonical text of a parsed address (dotted quad for IPv4). */
void craft_addr_format(const unsigned char addr[16], char out[CRAFT_ADDR_TEXT_MAX]);

/* True when the parsed address lies in one of the list's networks. */
bool craft_proxy_list_contains(const struct craft_proxy_list *list, const unsigned char addr[16]);

/* The client's address, in canonical text, given the TCP peer's address and
 * the X-Forwarded-For value (NULL when absent; several header lines joined
 * with commas). When the peer is not trusted, the peer. Otherwise the
 * entries are read from the right: the first one that is not a trusted
 * address is the client; an entry that is not an address stops the walk at
 * the last trusted hop; when every entry is trusted, the left-most. Returns
 * 0, or CRAFT_EINVAL when the peer itself is not an address (out = peer text,
 * truncated). */
int craft_proxy_client(const struct craft_proxy_list *list, const char *peer, const char *xff,
		       char out[CRAFT_ADDR_TEXT_MAX]);

#endif
