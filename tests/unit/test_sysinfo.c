/* Unit tests for lib/craft/sysinfo.c: detection in a fake root, address choice. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <ftw.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "craft/common.h"
#include "craft/sysinfo.h"

/* ---- a temporary root ---------------------------------------------------- */

struct fake_root {
	char dir[64];
};

static void root_make(struct fake_root *r)
{
	snprintf(r->dir, sizeof(r->dir), "/tmp/craft-sysinfo-XXXXXX");
	assert_non_null(mkdtemp(r->dir));
}

/* Create <root>/<path> (and its parent directories) holding `content`;
 * content NULL makes a directory. */
static void root_add(const struct fake_root *r, const char *path, const char *content)
{
	char full[512];
	snprintf(full, sizeof(full), "%s/%s", r->dir, path);
	for (char *slash = full + strlen(r->dir) + 1; (slash = strchr(slash, '/')); slash++) {
		*slash = '\0';
		mkdir(full, 0700);
		*slash = '/';
	}
	if (!content) {
		assert_int_equal(mkdir(full, 0700), 0);
		return;
	}
	FILE *f = fopen(full, "w");
	assert_non_null(f);
	fputs(content, f);
	fclose(f);
}

static int remove_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void root_remove(const struct fake_root *r)
{
	assert_int_equal(nftw(r->dir, remove_entry, 8, FTW_DEPTH | FTW_PHYS), 0);
}

struct fake_env {
	const char *name;
	const char *value;
};

static const char *fake_lookup(void *ctx, const char *name)
{
	const struct fake_env *env = ctx;
	for (; env && env->name; env++) {
		if (strcmp(env->name, name) == 0)
			return env->value;
	}
	return NULL;
}

static struct craft_sysinfo detect(const struct fake_root *r, struct fake_env *env)
{
	struct craft_sysinfo info;
	memset(&info, 0, sizeof(info));
	info.is_container = true; /* must be overwritten */
	info.is_kubernetes = true;
	snprintf(info.hostname, sizeof(info.hostname), "keep");
	craft_sysinfo_detect(r->dir, fake_lookup, env, &info);
	assert_string_equal(info.hostname, "keep");
	return info;
}

static void test_bare_host(void **state)
{
	(void)state;
	struct fake_root r;
	struct fake_env env[] = {{"HOME", "/root"}, {"container", ""}, {NULL, NULL}};

	root_make(&r);
	root_add(&r, "proc/1/cgroup", "12:memory:/user.slice\n0::/init.scope\n");
	root_add(&r, "run/secrets", NULL);
	struct craft_sysinfo info = detect(&r, env);
	assert_false(info.is_container);
	assert_false(info.is_kubernetes);
	root_remove(&r);
}

static void test_container_markers(void **state)
{
	(void)state;
	const char *files[] = {".dockerenv", "run/.containerenv"};
	const char *cgroups[] = {
	    "12:cpu:/docker/0123456789abcdef\n",          "0::/system.slice/containerd.service\n",
	    "11:pids:/kubepods/burstable/pod1234/abcd\n", "0::/lxc.payload.box\n",
	    "0::/machine.slice/libpod-0123.scope\n",      "1:name=systemd:/podman/abcd\n",
	};

	for (size_t i = 0; i < CRAFT_ARRAY_LEN(files); i++) {
		struct fake_root r;
		root_make(&r);
		root_add(&r, files[i], "");
		struct craft_sysinfo info = detect(&r, NULL);
		if (!info.is_container)
			fail_msg("%s not detected", files[i]);
		assert_false(info.is_kubernetes);
		root_remove(&r);
	}
	for (size_t i = 0; i < CRAFT_ARRAY_LEN(cgroups); i++) {
		struct fake_root r;
		root_make(&r);
		root_add(&r, "proc/1/cgroup", cgroups[i]);
		struct craft_sysinfo info = detect(&r, NULL);
		if (!info.is_container)
			fail_msg("cgroup %s not detected", cgroups[i]);
		assert_false(info.is_kubernetes);
		root_remove(&r);
	}

	struct fake_root r;
	struct fake_env env[] = {{"container", "podman"}, {NULL, NULL}};
	root_make(&r);
	struct craft_sysinfo info = detect(&r, env);
	assert_true(info.is_container);
	assert_false(info.is_kubernetes);
	root_remove(&r);
}

static void test_kubernetes(void **state)
{
	(void)state;
	struct fake_root r;
	struct fake_env env[] = {{"KUBERNETES_SERVICE_HOST", "10.96.0.1"}, {NULL, NULL}};
	struct fake_env empty[] = {{"KUBERNETES_SERVICE_HOST", ""}, {NULL, NULL}};

	root_make(&r);
	struct craft_sysinfo info = detect(&r, env);
	assert_true(info.is_kubernetes);
	assert_true(info.is_container); /* Kubernetes runs containers */
	info = detect(&r, empty);
	assert_false(info.is_kubernetes);
	assert_false(info.is_container);

	root_add(&r, "var/run/secrets/kubernetes.io/serviceaccount", NULL);
	info = detect(&r, NULL);
	assert_true(info.is_kubernetes);
	assert_true(info.is_container);
	root_remove(&r);
}

/* ---- address choice ------------------------------------------------------ */

struct fake_if {
	struct ifaddrs ifa;
	struct sockaddr_storage addr;
};

static void set_if(struct fake_if *f, struct fake_if *next, const char *name, const char *ip,
		   unsigned flags)
{
	memset(f, 0, sizeof(*f));
	f->ifa.ifa_next = next ? &next->ifa : NULL;
	f->ifa.ifa_name = (char *)(uintptr_t)name;
	f->ifa.ifa_flags = flags;
	if (!ip)
		return; /* an interface without an address */
	f->ifa.ifa_addr = (struct sockaddr *)(void *)&f->addr;
	if (strchr(ip, ':')) {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)(void *)&f->addr;
		sin6->sin6_family = AF_INET6;
		assert_int_equal(inet_pton(AF_INET6, ip, &sin6->sin6_addr), 1);
	} else {
		struct sockaddr_in *sin = (struct sockaddr_in *)(void *)&f->addr;
		sin->sin_family = AF_INET;
		assert_int_equal(inet_pton(AF_INET, ip, &sin->sin_addr), 1);
	}
}

static void test_pick_ipv4_first(void **state)
{
	(void)state;
	struct fake_if ifs[7];
	char out[64];

	set_if(&ifs[6], &ifs[1], "lo:1", "10.255.0.1", IFF_UP | IFF_LOOPBACK); /* still loopback */
	set_if(&ifs[0], &ifs[6], "lo", "127.0.0.1", IFF_UP | IFF_LOOPBACK);
	set_if(&ifs[1], &ifs[2], "eth0", "2001:db8::5", IFF_UP);
	set_if(&ifs[2], &ifs[3], "tun0", NULL, IFF_UP);
	set_if(&ifs[3], &ifs[4], "eth1", "10.9.9.9", 0); /* down */
	set_if(&ifs[4], &ifs[5], "eth2", "192.168.1.20", IFF_UP);
	set_if(&ifs[5], NULL, "eth3", "172.17.0.2", IFF_UP);
	craft_sysinfo_pick_address(&ifs[0].ifa, out, sizeof(out));
	assert_string_equal(out, "192.168.1.20");
}

static void test_pick_ipv6_fallback(void **state)
{
	(void)state;
	struct fake_if ifs[4];
	char out[64];

	set_if(&ifs[0], &ifs[1], "lo", "::1", IFF_UP | IFF_LOOPBACK);
	set_if(&ifs[1], &ifs[2], "eth0", "fe80::1", IFF_UP); /* link-local */
	set_if(&ifs[2], &ifs[3], "lo", "127.0.0.1", IFF_UP | IFF_LOOPBACK);
	set_if(&ifs[3], NULL, "eth0", "2001:db8::42", IFF_UP);
	craft_sysinfo_pick_address(&ifs[0].ifa, out, sizeof(out));
	assert_string_equal(out, "2001:db8::42");

	/* Nothing usable: loopback text. */
	ifs[2].ifa.ifa_next = NULL;
	craft_sysinfo_pick_address(&ifs[0].ifa, out, sizeof(out));
	assert_string_equal(out, "127.0.0.1");
	craft_sysinfo_pick_address(NULL, out, sizeof(out));
	assert_string_equal(out, "127.0.0.1");
}

static void test_read_this_host(void **state)
{
	(void)state;
	struct craft_sysinfo info;
	char host[256] = "";
	unsigned char addr[sizeof(struct in6_addr)];

	craft_sysinfo_read(&info);
	gethostname(host, sizeof(host) - 1);
	assert_string_equal(info.hostname, host);
	assert_true(inet_pton(AF_INET, info.ip_address, addr) == 1 ||
		    inet_pton(AF_INET6, info.ip_address, addr) == 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_bare_host),          cmocka_unit_test(test_container_markers),
	    cmocka_unit_test(test_kubernetes),         cmocka_unit_test(test_pick_ipv4_first),
	    cmocka_unit_test(test_pick_ipv6_fallback), cmocka_unit_test(test_read_this_host),
	};
	return cmocka_run_group_tests_name("sysinfo", tests, NULL, NULL);
}
