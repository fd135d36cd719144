/* sysinfo.c - hostname, IP address, container and Kubernetes detection. */
#include "sysinfo.h"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <limits.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define CGROUP_READ_MAX 16384

static const char *env_lookup(void *ctx, const char *name)
{
	(void)ctx;
	return getenv(name);
}

static bool is_set(craft_config_lookup lookup, void *ctx, const char *name)
{
	const char *value = lookup(ctx, name);
	return value && value[0];
}

/* Does <root><path> exist? A path too long for the buffer does not. */
static bool exists_under(const char *root, const char *path)
{
	char full[PATH_MAX];
	int n = snprintf(full, sizeof(full), "%s%s", root, path);

	return n > 0 && (size_t)n < sizeof(full) && access(full, F_OK) == 0;
}

/* Does the start of <root>/proc/1/cgroup name a container runtime? */
static bool cgroup_says_container(const char *root)
{
	static const char *const markers[] = {"docker", "containerd", "kubepods",
					      "lxc",    "podman",     "libpod"};
	char path[PATH_MAX];
	char text[CGROUP_READ_MAX];
	bool found = false;

	int n = snprintf(path, sizeof(path), "%s/proc/1/cgroup", root);
	if (n < 0 || (size_t)n >= sizeof(path))
		return false;
	FILE *f = fopen(path, "r");
	if (!f)
		return false;
	size_t len = fread(text, 1, sizeof(text) - 1, f);
	text[len] = '\0';
	fclose(f);
	for (size_t i = 0; i < sizeof(markers) / sizeof(markers[0]) && !found; i++)
		found = strstr(text, markers[i]) != NULL;
	return found;
}

void craft_sysinfo_detect(const char *root, craft_config_lookup lookup, void *lookup_ctx,
			  struct craft_sysinfo *out)
{
	if (!root)
		root = "";
	if (!lookup)
		lookup = env_lookup;
	out->is_kubernetes = is_set(lookup, lookup_ctx, "KUBERNETES_SERVICE_HOST") ||
			     exists_under(root, "/var/run/secrets/kubernetes.io/serviceaccount");
	out->is_container = out->is_kubernetes || exists_under(root, "/.dockerenv") ||
			    exists_under(root, "/run/.containerenv") ||
			    is_set(lookup, lookup_ctx, "container") || cgroup_says_container(root);
}

static bool usable(const struct ifaddrs *ifa, int family)
{
	return ifa->ifa_addr && ifa->ifa_addr->sa_family == family && (ifa->ifa_flags & IFF_UP) &&
	       !(ifa->ifa_flags & IFF_LOOPBACK);
}

static bool pick_ipv4(const struct ifaddrs *list, char *out, size_t out_len)
{
	for (const struct ifaddrs *ifa = list; ifa; ifa = ifa->ifa_next) {
		if (!usable(ifa, AF_INET))
			continue;
		const struct sockaddr_in *sin =
		    (const struct sockaddr_in *)(const void *)ifa->ifa_addr;
		if ((ntohl(sin->sin_addr.s_addr) >> 24) == 127)
			continue;
		if (inet_ntop(AF_INET, &sin->sin_addr, out, (socklen_t)out_len))
			return true;
	}
	return false;
}

static bool pick_ipv6(const struct ifaddrs *list, char *out, size_t out_len)
{
	for (const struct ifaddrs *ifa = list; ifa; ifa = ifa->ifa_next) {
		if (!usable(ifa, AF_INET6))
			continue;
		const struct sockaddr_in6 *sin6 =
		    (const struct sockaddr_in6 *)(const void *)ifa->ifa_addr;
		if (IN6_IS_ADDR_LOOPBACK(&sin6->sin6_addr) ||
		    IN6_IS_ADDR_LINKLOCAL(&sin6->sin6_addr))
			continue;
		if (inet_ntop(AF_INET6, &sin6->sin6_addr, out, (socklen_t)out_len))
			return true;
	}
	return false;
}

void craft_sysinfo_pick_address(const struct ifaddrs *list, char *out, size_t out_len)
{
	if (!out || out_len == 0)
		return;
	if (pick_ipv4(list, out, out_len) || pick_ipv6(list, out, out_len))
		return;
	snprintf(out, out_len, "127.0.0.1");
}

void craft_sysinfo_read(struct craft_sysinfo *out)
{
	struct ifaddrs *list = NULL;

	memset(out, 0, sizeof(*out));
	if (gethostname(out->hostname, sizeof(out->hostname)) != 0 || !out->hostname[0])
		snprintf(out->hostname, sizeof(out->hostname), "unknown");
	out->hostname[sizeof(out->hostname) - 1] = '\0';
	if (getifaddrs(&list) != 0)
		list = NULL;
	craft_sysinfo_pick_address(list, out->ip_address, sizeof(out->ip_address));
	if (list)
		freeifaddrs(list);
	craft_sysinfo_detect(NULL, NULL, NULL, out);
}
