#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "craft/common.h"
#include "craft/proxy.h"

static struct craft_proxy_list parse_ok(const char *text)
{
	struct craft_proxy_list l;
	char err[128] = "";
	if (craft_proxy_list_parse(text, &l, err, sizeof(err)) != CRAFT_OK)
		fail_msg("refused '%s': %s", text, err);
	return l;
}

static void test_parse(void **state)
{
	(void)state;
	assert_int_equal(parse_ok("").count, 0);
	assert_int_equal(parse_ok("  ").count, 0);
	assert_int_equal(parse_ok("10.0.0.0/8, 192.168.1.7 ,fd00::/8,").count, 3);
	assert_int_equal(parse_ok("0.0.0.0/0,::/0").count, 2);
	const char *bad[] = {"10.0.0.0/33",  "10.0.0.1/8", "10.0.0/8",    "fd00::/129",
			     "host.example", "10.0.0.0/",  "10.0.0.0/-1", "10.0.0.0/ 8",
			     "1.2.3.4:80",   "[::1]",      "10.0.0.0/8x"};
	for (size_t i = 0; i < CRAFT_ARRAY_LEN(bad); i++) {
		struct craft_proxy_list l;
		char err[128] = "";
		if (craft_proxy_list_parse(bad[i], &l, err, sizeof(err)) != CRAFT_EINVAL)
			fail_msg("accepted '%s'", bad[i]);
		assert_int_equal(l.count, 0);
		assert_non_null(strstr(err, "not an address"));
	}
	char many[1024] = "";
	for (int i = 0; i <= CRAFT_PROXY_MAX_NETS; i++)
		memcpy(many + 9 * i, "10.1.2.3,", 9);
	struct craft_proxy_list l;
	char err[128] = "";
	assert_int_equal(craft_proxy_list_parse(many, &l, err, sizeof(err)), CRAFT_EINVAL);
	assert_non_null(strstr(err, "more than"));
}

static void test_contains(void **state)
{
	(void)state;
	struct craft_proxy_list l = parse_ok("10.0.0.0/8, 192.168.1.7, fd00::/8, 172.16.0.0/12");
	const char *in[] = {"10.1.2.3", "10.255.255.255", "192.168.1.7",
			    "fd12::1",  "172.31.0.1",     "::ffff:10.9.9.9"};
	const char *out[] = {"11.0.0.1",   "192.168.1.8", "fe80::1",
			     "172.32.0.1", "::1",         "9.255.255.255"};
	unsigned char a[16];
	for (size_t i = 0; i < CRAFT_ARRAY_LEN(in); i++) {
		assert_int_equal(craft_addr_parse(in[i], a), CRAFT_OK);
		if (!craft_proxy_list_contains(&l, a))
			fail_msg("%s should be trusted", in[i]);
	}
	for (size_t i = 0; i < CRAFT_ARRAY_LEN(out); i++) {
		assert_int_equal(craft_addr_parse(out[i], a), CRAFT_OK);
		if (craft_proxy_list_contains(&l, a))
			fail_msg("%s should not be trusted", out[i]);
	}
}

static void expect_client(const struct craft_proxy_list *l, const char *peer, const char *xff,
			  const char *want)
{
	char got[CRAFT_ADDR_TEXT_MAX];
	assert_int_equal(craft_proxy_client(l, peer, xff, got), CRAFT_OK);
	if (strcmp(got, want) != 0)
		fail_msg("peer %s xff '%s': got %s, want %s", peer, xff ? xff : "(none)", got,
			 want);
}

static void test_client(void **state)
{
	(void)state;
	struct craft_proxy_list none = parse_ok("");
	struct craft_proxy_list l = parse_ok("10.0.0.0/8,127.0.0.1");
	/* an untrusted peer is the client, whatever it claims */
	expect_client(&none, "10.0.0.5", "203.0.113.9", "10.0.0.5");
	expect_client(&l, "198.51.100.1", "203.0.113.9", "198.51.100.1");
	/* a trusted peer: the right-most untrusted entry */
	expect_client(&l, "10.0.0.5", "203.0.113.9", "203.0.113.9");
	expect_client(&l, "10.0.0.5", "1.1.1.1, 203.0.113.9", "203.0.113.9");
	expect_client(&l, "10.0.0.5", "1.1.1.1, 203.0.113.9, 10.2.2.2 , 127.0.0.1", "203.0.113.9");
	/* nothing forwarded: the peer */
	expect_client(&l, "10.0.0.5", NULL, "10.0.0.5");
	expect_client(&l, "10.0.0.5", "", "10.0.0.5");
	/* garbage stops the walk at the last trusted hop */
	expect_client(&l, "10.0.0.5", "203.0.113.9, 10.3.3.3, not-an-ip, 10.2.2.2", "10.2.2.2");
	expect_client(&l, "10.0.0.5", "unknown", "10.0.0.5");
	/* every entry trusted: the left-most */
	expect_client(&l, "10.0.0.5", "10.7.7.7, 10.8.8.8", "10.7.7.7");
	/* canonical text, IPv6 and mapped forms */
	expect_client(&l, "::ffff:10.0.0.5", "2001:DB8:0:0::1", "2001:db8::1");
	expect_client(&l, "127.0.0.1", "::ffff:203.0.113.4", "203.0.113.4");
	char got[CRAFT_ADDR_TEXT_MAX];
	assert_int_equal(craft_proxy_client(&l, "not-an-address", "1.2.3.4", got), CRAFT_EINVAL);
	assert_string_equal(got, "not-an-address");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse),
	    cmocka_unit_test(test_contains),
	    cmocka_unit_test(test_client),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
