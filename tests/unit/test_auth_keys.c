/* auth's signing key and the JWK set it publishes, on real files in a
 * temporary directory: generation in development only, reloading the same
 * pair, the order current-next-previous, and the mistakes refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#define _XOPEN_SOURCE_EXTENDED 1
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "craft/common.h"
#include "craft/jwt.h"

#include "auth/keys.h"

static int remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st, (void)flag, (void)ftw;
	return remove(path);
}

struct dir {
	char root[64];
};

static int setup(void **state)
{
	struct dir *d = calloc(1, sizeof(*d));
	snprintf(d->root, sizeof(d->root), "/tmp/craft-keys-XXXXXX");
	assert_non_null(mkdtemp(d->root));
	*state = d;
	return 0;
}

static int teardown(void **state)
{
	struct dir *d = *state;
	nftw(d->root, remove_one, 16, FTW_DEPTH | FTW_PHYS);
	free(d);
	return 0;
}

static const char *path(const struct dir *d, char *buf, const char *rel)
{
	snprintf(buf, 256, "%s/%s", d->root, rel);
	return buf;
}

/* A key pair of `kid` whose public half is written to `pub`. */
static void write_public(const char *kid, const char *pub)
{
	craft_jwt_key *k = NULL;
	assert_int_equal(craft_jwt_key_generate(2048, kid, &k), CRAFT_OK);
	assert_int_equal(craft_jwt_key_write_pem(k, NULL, pub), CRAFT_OK);
	craft_jwt_key_free(k);
}

static const char *kid_at(const struct auth_keys *k, size_t i)
{
	json_t *doc = craft_jwks_to_json(k->jwks);
	static char kid[128];
	snprintf(kid, sizeof(kid), "%s",
		 json_string_value(
		     json_object_get(json_array_get(json_object_get(doc, "keys"), i), "kid")));
	json_decref(doc);
	return kid;
}

static void test_missing_outside_development(void **state)
{
	struct dir *d = *state;
	char priv[256], pub[256], err[512] = "";
	struct auth_keys_options o = {.private_path = path(d, priv, "private.pem"),
				      .public_path = path(d, pub, "public.pem"),
				      .kid = "k1"};
	struct auth_keys k;
	assert_int_equal(auth_keys_load(&o, &k, err, sizeof(err)), CRAFT_ENOTFOUND);
	assert_non_null(strstr(err, "RSA_PRIVATE_KEY_PATH"));
	assert_int_not_equal(access(priv, F_OK), 0); /* nothing was made */
}

static void test_generated_once_then_reloaded(void **state)
{
	struct dir *d = *state;
	char priv[256], pub[256], err[512] = "";
	struct auth_keys_options o = {.private_path = path(d, priv, "a/b/private.pem"),
				      .public_path = path(d, pub, "a/b/public.pem"),
				      .kid = "k1",
				      .generate_if_missing = true,
				      .generate_bits = 2048};
	struct auth_keys first, again;
	assert_int_equal(auth_keys_load(&o, &first, err, sizeof(err)), CRAFT_OK);
	assert_int_equal(access(priv, R_OK), 0);
	assert_int_equal(access(pub, R_OK), 0);
	assert_int_equal(craft_jwks_count(first.jwks), 1);
	assert_non_null(craft_jwks_find(first.jwks, "k1"));
	/* a second start finds the pair and keeps it */
	assert_int_equal(auth_keys_load(&o, &again, err, sizeof(err)), CRAFT_OK);
	json_t *a = craft_jwt_key_to_jwk(first.signing);
	json_t *b = craft_jwt_key_to_jwk(again.signing);
	assert_true(json_equal(a, b));
	json_decref(a);
	json_decref(b);
	/* what it signs, the published set verifies */
	char *token = NULL;
	json_t *claims = json_pack("{s:s, s:I}", "sub", "ann", "exp", (json_int_t)4102444800);
	assert_int_equal(craft_jwt_sign(again.signing, claims, &token), CRAFT_OK);
	json_decref(claims);
	struct craft_jwt_claims c;
	const char *why = NULL;
	struct craft_jwt_verify_opts vo = {.leeway_s = 30};
	assert_int_equal(craft_jwt_verify(first.jwks, token, strlen(token), &vo, &c, &why),
			 CRAFT_OK);
	assert_string_equal(c.sub, "ann");
	craft_jwt_claims_cleanup(&c);
	free(token);
	auth_keys_cleanup(&first);
	auth_keys_cleanup(&again);
	auth_keys_cleanup(&again); /* twice is harmless */
}

static void test_current_then_next_then_previous(void **state)
{
	struct dir *d = *state;
	char priv[256], pub[256], next[256], prev[256], p[256], err[512] = "";
	path(d, next, "next");
	path(d, prev, "previous");
	assert_int_equal(mkdir(next, 0755), 0);
	assert_int_equal(mkdir(prev, 0755), 0);
	write_public("n1", path(d, p, "next/n1.pem"));
	write_public("p2", path(d, p, "previous/p2.pem"));
	write_public("p1", path(d, p, "previous/p1.pem"));
	struct auth_keys_options o = {.private_path = path(d, priv, "private.pem"),
				      .public_path = path(d, pub, "public.pem"),
				      .kid = "now",
				      .next_dir = next,
				      .previous_dir = prev,
				      .generate_if_missing = true,
				      .generate_bits = 2048};
	struct auth_keys k;
	assert_int_equal(auth_keys_load(&o, &k, err, sizeof(err)), CRAFT_OK);
	assert_int_equal(craft_jwks_count(k.jwks), 4);
	assert_string_equal(kid_at(&k, 0), "now");
	assert_string_equal(kid_at(&k, 1), "n1");
	assert_string_equal(kid_at(&k, 2), "p1"); /* by file name */
	assert_string_equal(kid_at(&k, 3), "p2");
	auth_keys_cleanup(&k);

	/* a key id published twice is refused, naming the setting */
	write_public("now", path(d, p, "previous/now.pem"));
	assert_int_equal(auth_keys_load(&o, &k, err, sizeof(err)), CRAFT_ECONFLICT);
	assert_non_null(strstr(err, "RSA_PREVIOUS_KEYS_DIR"));
	assert_null(k.signing);
	assert_null(k.jwks);
}

static void test_public_half_must_match(void **state)
{
	struct dir *d = *state;
	char priv[256], pub[256], other[256], err[512] = "";
	struct auth_keys_options o = {.private_path = path(d, priv, "private.pem"),
				      .public_path = path(d, pub, "public.pem"),
				      .kid = "k1",
				      .generate_if_missing = true,
				      .generate_bits = 2048};
	struct auth_keys k;
	assert_int_equal(auth_keys_load(&o, &k, err, sizeof(err)), CRAFT_OK);
	auth_keys_cleanup(&k);
	/* the same private key, published with another pair's public half */
	write_public("k1", path(d, other, "other.pem"));
	o.public_path = other;
	assert_int_equal(auth_keys_load(&o, &k, err, sizeof(err)), CRAFT_EINVAL);
	assert_non_null(strstr(err, "not the public half"));
	assert_null(k.jwks);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_missing_outside_development, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_generated_once_then_reloaded, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_current_then_next_then_previous, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_public_half_must_match, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
