/* sysinfo.h - what the system-info endpoints report about the host.
 *
 * Hostname, a reachable-looking IP address, and whether the process runs in
 * a container and on Kubernetes. Read once at start-up; the result is a plain
 * value that can be shared read-only between threads.
 */
#ifndef CRAFT_SYSINFO_H
#define CRAFT_SYSINFO_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"

struct ifaddrs;

struct craft_sysinfo {
	char hostname[256];  /* "unknown" when gethostname fails */
	char ip_address[64]; /* textual IPv4 or IPv6 */
	bool is_container;
	bool is_kubernetes;
};

/* Fill *out for this process: gethostname(), the address chosen by
 * craft_sysinfo_pick_address() from getifaddrs(), and craft_sysinfo_detect()
 * on the real root with getenv. Never fails; unknown parts get fallbacks. */
void craft_sysinfo_read(struct craft_sysinfo *out);

/* Set out->is_container and out->is_kubernetes from the files under `root`
 * (NULL or "" = "/") and the variables seen through `lookup` (NULL = getenv).
 * Container: <root>/.dockerenv or <root>/run/.containerenv exists, or
 * <root>/proc/1/cgroup mentions docker, containerd, kubepods, lxc, podman or
 * libpod, or the variable `container` is non-empty. Kubernetes:
 * KUBERNETES_SERVICE_HOST is non-empty or
 * <root>/var/run/secrets/kubernetes.io/serviceaccount exists; Kubernetes
 * implies container. Other fields are untouched. */
void craft_sysinfo_detect(const char *root, craft_config_lookup lookup, void *lookup_ctx,
			  struct craft_sysinfo *out);

/* Write into out (bounded by out_len) the first up, non-loopback IPv4 address
 * of `list`; else the first up IPv6 address that is neither loopback nor
 * link-local; else "127.0.0.1". */
void craft_sysinfo_pick_address(const struct ifaddrs *list, char *out, size_t out_len);

#endif
