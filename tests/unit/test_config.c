/* Unit tests for lib/craft/config.c with a fake environment. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "craft/common.h"
#include "craft/config.h"
#include "craft/log.h"

#define SECRET_VALUE "s3cr3t-production-key-0123456789"

struct fake_env {
	const char *pairs[16][2];
};

static const char *fake_lookup(void *ctx, const char *name)
{
	const struct fake_env *env = ctx;
	for (size_t i = 0; i < CRAFT_ARRAY_LEN(env->pairs) && env->pairs[i][0]; i++) {
		if (strcmp(env->pairs[i][0], name) == 0)
			return env->pairs[i][1];
	}
	return NULL;
}

struct cfg {
	long port;
	const char *host;
	bool cookie_secure;
	const char *api_key;
	const char *issuer;
	long workers;
};

static const struct craft_config_field fields[] = {
    {.name = "PORT",
     .type = CRAFT_CONFIG_INT,
     .default_value = "8000",
     .min = 1,
     .max = 65535,
     .offset = offsetof(struct cfg, port),
     .help = "TCP port to listen on"},
    {.name = "HOST",
     .type = CRAFT_CONFIG_STR,
     .default_value = "0.0.0.0",
     .min = 1,
     .max = 255,
     .offset = offsetof(struct cfg, host),
     .help = "address to bind"},
    {.name = "COOKIE_SECURE",
     .type = CRAFT_CONFIG_BOOL,
     .default_value = "false",
     .offset = offsetof(struct cfg, cookie_secure),
     .help = "mark cookies Secure"},
    {.name = "INTERNAL_API_KEY",
     .type = CRAFT_CONFIG_STR,
     .default_value = "dev-internal-key",
     .min = 16,
     .secret = true,
     .offset = offsetof(struct cfg, api_key),
     .help = "shared key for internal calls"},
    {.name = "JWT_ISSUER",
     .type = CRAFT_CONFIG_STR,
     .default_value = "",
     .offset = offsetof(struct cfg, issuer),
     .help = "expected iss claim; empty to skip the check"},
    {.name = "WORKERS",
     .type = CRAFT_CONFIG_INT,
     .default_value = "2",
     .min = 1,
     .max = 64,
     .offset = offsetof(struct cfg, workers),
     .help = "request threads"},
};

static int load(struct fake_env *env, bool development, struct cfg *cfg, char *err, size_t err_len)
{
	memset(cfg, 0xa5, sizeof(*cfg));
	return craft_config_load(fields, CRAFT_ARRAY_LEN(fields), cfg, fake_lookup, env,
				 development, err, err_len);
}

static void test_defaults(void **state)
{
	(void)state;
	struct fake_env env = {{{NULL, NULL}}};
	struct cfg cfg;
	char err[256];

	assert_int_equal(load(&env, true, &cfg, err, sizeof(err)), 0);
	assert_string_equal(err, "");
	assert_int_equal(cfg.port, 8000);
	assert_string_equal(cfg.host, "0.0.0.0");
	assert_false(cfg.cookie_secure);
	assert_string_equal(cfg.api_key, "dev-internal-key");
	assert_string_equal(cfg.issuer, "");
	assert_int_equal(cfg.workers, 2);
	craft_config_free(fields, CRAFT_ARRAY_LEN(fields), &cfg);
	assert_null(cfg.host);
	assert_null(cfg.api_key);
	craft_config_free(fields, CRAFT_ARRAY_LEN(fields), &cfg); /* twice is fine */
}

static void test_overrides(void **state)
{
	(void)state;
	char host[] = "127.0.0.1";
	struct fake_env env = {{{"PORT", "8082"},
				{"HOST", host},
				{"COOKIE_SECURE", "yes"},
				{"INTERNAL_API_KEY", SECRET_VALUE},
				{"JWT_ISSUER", "https://auth.example"},
				{"WORKERS", ""}, /* empty INT = unset */
				{NULL, NULL}}};
	struct cfg cfg;
	char err[256];

	assert_int_equal(load(&env, false, &cfg, err, sizeof(err)), 0);
	host[0] = 'X'; /* the value was copied */
	assert_int_equal(cfg.port, 8082);
	assert_string_equal(cfg.host, "127.0.0.1");
	assert_true(cfg.cookie_secure);
	assert_string_equal(cfg.api_key, SECRET_VALUE);
	assert_string_equal(cfg.issuer, "https://auth.example");
	assert_int_equal(cfg.workers, 2);
	craft_config_free(fields, CRAFT_ARRAY_LEN(fields), &cfg);
}

static void expect_error(struct fake_env *env, bool development, const char *expected)
{
	struct cfg cfg;
	char err[512];

	assert_int_equal(load(env, development, &cfg, err, sizeof(err)), CRAFT_EINVAL);
	if (!strstr(err, expected))
		fail_msg("error \"%s\" does not contain \"%s\"", err, expected);
	/* Nothing is left allocated, STR targets are NULL. */
	assert_null(cfg.host);
	assert_null(cfg.api_key);
	assert_null(cfg.issuer);
	assert_null(strstr(err, SECRET_VALUE));
}

static void test_bad_int(void **state)
{
	(void)state;
	struct fake_env env = {{{"PORT", "abc"}, {NULL, NULL}}};
	struct cfg cfg;
	char err[256];

	assert_int_equal(load(&env, true, &cfg, err, sizeof(err)), CRAFT_EINVAL);
	assert_string_equal(err, "PORT must be an integer between 1 and 65535 (got \"abc\")");

	const char *bad[] = {
	    "0", "65536", "-1", " 80", "80 ", "8O", "0x50", "1e3", "99999999999999999999999",
	    "+", "-"};
	for (size_t i = 0; i < CRAFT_ARRAY_LEN(bad); i++) {
		env.pairs[0][1] = bad[i];
		assert_int_equal(load(&env, true, &cfg, err, sizeof(err)), CRAFT_EINVAL);
		assert_non_null(strstr(err, "PORT must be an integer between 1 and 65535"));
	}
	const struct {
		const char *text;
		long value;
	} good[] = {{"1", 1}, {"65535", 65535}, {"+443", 443}, {"0080", 80}};
	for (size_t i = 0; i < CRAFT_ARRAY_LEN(good); i++) {
		env.pairs[0][1] = good[i].text;
		assert_int_equal(load(&env, true, &cfg, err, sizeof(err)), 0);
		assert_int_equal(cfg.port, good[i].value);
		craft_config_free(fields, CRAFT_ARRAY_LEN(fields), &cfg);
	}
	/* A bad value is quoted safely and briefly. */
	env.pairs[0][1] =
	    "\"quoted\"\nline-and-a-very-long-tail-that-goes-on-and-on-and-on-forever";
	assert_int_equal(load(&env, true, &cfg, err, sizeof(err)), CRAFT_EINVAL);
	assert_null(strchr(err, '\n'));
	assert_non_null(strstr(err, "(got \"?quoted??line-"));
	assert_non_null(strstr(err, "...\")"));
}

static void test_bool_forms(void **state)
{
	(void)state;
	const struct {
		const char *text;
		bool value;
	} forms[] = {
	    {"true", true},   {"TRUE", true},   {"True", true}, {"1", true},
	    {"yes", true},    {"YES", true},    {"on", true},   {"On", true},
	    {"false", false}, {"FALSE", false}, {"0", false},   {"no", false},
	    {"No", false},    {"off", false},   {"OFF", false}, {"", false}, /* default */
	};
	struct fake_env env = {{{"COOKIE_SECURE", NULL}, {NULL, NULL}}};
	struct cfg cfg;
	char err[256];

	for (size_t i = 0; i < CRAFT_ARRAY_LEN(forms); i++) {
		env.pairs[0][1] = forms[i].text;
		cfg.cookie_secure = !forms[i].value;
		assert_int_equal(load(&env, true, &cfg, err, sizeof(err)), 0);
		if (cfg.cookie_secure != forms[i].value)
			fail_msg("\"%s\" read as %d", forms[i].text, cfg.cookie_secure);
		craft_config_free(fields, CRAFT_ARRAY_LEN(fields), &cfg);
	}
	const char *bad[] = {"maybe", "2", "y", "t", "truee", " true"};
	for (size_t i = 0; i < CRAFT_ARRAY_LEN(bad); i++) {
		env.pairs[0][1] = bad[i];
		assert_int_equal(load(&env, true, &cfg, err, sizeof(err)), CRAFT_EINVAL);
		assert_non_null(strstr(err, "COOKIE_SECURE must be true/false"));
	}
}

static void test_strings(void **state)
{
	(void)state;
	struct fake_env env = {{{"HOST", ""}, {"JWT_ISSUER", ""}, {NULL, NULL}}};
	char long_host[300];

	expect_error(&env, true, "HOST must not be empty: address to bind");

	/* An empty STR with min 0 is a value, not unset. */
	struct fake_env ok = {{{"JWT_ISSUER", ""}, {NULL, NULL}}};
	struct cfg cfg;
	char err[256];
	assert_int_equal(load(&ok, true, &cfg, err, sizeof(err)), 0);
	assert_string_equal(cfg.issuer, "");
	craft_config_free(fields, CRAFT_ARRAY_LEN(fields), &cfg);

	memset(long_host, 'h', sizeof(long_host) - 1);
	long_host[sizeof(long_host) - 1] = '\0';
	env.pairs[0][1] = long_host;
	expect_error(&env, true, "HOST must be between 1 and 255 characters long");
	long_host[255] = '\0';
	assert_int_equal(load(&env, true, &cfg, err, sizeof(err)), 0);
	assert_int_equal(strlen(cfg.host), 255);
	craft_config_free(fields, CRAFT_ARRAY_LEN(fields), &cfg);
}

static void test_required_missing(void **state)
{
	(void)state;
	struct req {
		const char *url;
		long n;
	} r;
	const struct craft_config_field req_fields[] = {
	    {.name = "DATABASE_URL",
	     .type = CRAFT_CONFIG_STR,
	     .default_value = NULL,
	     .offset = offsetof(struct req, url),
	     .help = "libpq connection URI"},
	    {.name = "COUNT",
	     .type = CRAFT_CONFIG_INT,
	     .default_value = NULL,
	     .min = 0,
	     .max = 10,
	     .offset = offsetof(struct req, n),
	     .help = "how many"},
	};
	struct fake_env env = {{{"COUNT", ""}, {NULL, NULL}}};
	char err[256];

	assert_int_equal(
	    craft_config_load(req_fields, 2, &r, fake_lookup, &env, true, err, sizeof(err)),
	    CRAFT_EINVAL);
	assert_string_equal(err, "DATABASE_URL is required but not set: libpq connection URI; "
				 "COUNT is required but not set: how many");
	assert_null(r.url);

	/* A small error buffer is cut, never overrun. */
	char small[12];
	memset(small, 'Z', sizeof(small));
	assert_int_equal(craft_config_load(req_fields, 2, &r, fake_lookup, &env, true, small, 8),
			 CRAFT_EINVAL);
	assert_int_equal(strlen(small), 7);
	assert_memory_equal(small, "DATABAS", 8);
	assert_int_equal(small[8], 'Z');
	assert_int_equal(craft_config_load(req_fields, 2, &r, fake_lookup, &env, true, NULL, 0),
			 CRAFT_EINVAL);

	env.pairs[0][0] = "DATABASE_URL";
	env.pairs[0][1] = "postgresql://db/app";
	env.pairs[1][0] = "COUNT";
	env.pairs[1][1] = "3";
	assert_int_equal(
	    craft_config_load(req_fields, 2, &r, fake_lookup, &env, true, err, sizeof(err)), 0);
	assert_string_equal(r.url, "postgresql://db/app");
	assert_int_equal(r.n, 3);
	craft_config_free(req_fields, 2, &r);
}

static void test_secret_default(void **state)
{
	(void)state;
	struct fake_env unset = {{{NULL, NULL}}};
	struct fake_env copied = {{{"INTERNAL_API_KEY", "dev-internal-key"}, {NULL, NULL}}};
	struct fake_env set = {{{"INTERNAL_API_KEY", SECRET_VALUE}, {NULL, NULL}}};
	struct cfg cfg;
	char err[256];

	/* Refused in production, whether left unset or copied from the default. */
	assert_int_equal(load(&unset, false, &cfg, err, sizeof(err)), CRAFT_EINVAL);
	assert_string_equal(
	    err, "INTERNAL_API_KEY is still the development default; set a secret value");
	assert_null(strstr(err, "dev-internal-key"));
	assert_int_equal(load(&copied, false, &cfg, err, sizeof(err)), CRAFT_EINVAL);
	assert_non_null(strstr(err, "INTERNAL_API_KEY is still the development default"));

	/* Accepted in development. */
	assert_int_equal(load(&unset, true, &cfg, err, sizeof(err)), 0);
	assert_string_equal(cfg.api_key, "dev-internal-key");
	craft_config_free(fields, CRAFT_ARRAY_LEN(fields), &cfg);

	/* A real value is fine in production. */
	assert_int_equal(load(&set, false, &cfg, err, sizeof(err)), 0);
	assert_string_equal(cfg.api_key, SECRET_VALUE);
	craft_config_free(fields, CRAFT_ARRAY_LEN(fields), &cfg);
}

/* A secret whose default is empty is optional, also in production. */
static void test_optional_secret(void **state)
{
	(void)state;
	struct opt {
		const char *password;
	} o;
	const struct craft_config_field opt_fields[] = {
	    {.name = "ADMIN_PASSWORD",
	     .type = CRAFT_CONFIG_STR,
	     .default_value = "",
	     .secret = true,
	     .offset = offsetof(struct opt, password)},
	};
	struct fake_env unset = {{{NULL, NULL}}};
	struct fake_env set = {{{"ADMIN_PASSWORD", "s3cret-admin"}, {NULL, NULL}}};
	char err[256];
	assert_int_equal(
	    craft_config_load(opt_fields, 1, &o, fake_lookup, &unset, false, err, sizeof(err)), 0);
	assert_string_equal(o.password, "");
	craft_config_free(opt_fields, 1, &o);
	assert_int_equal(
	    craft_config_load(opt_fields, 1, &o, fake_lookup, &set, false, err, sizeof(err)), 0);
	assert_string_equal(o.password, "s3cret-admin");
	craft_config_free(opt_fields, 1, &o);
}

static void test_secret_never_in_errors(void **state)
{
	(void)state;
	struct secret_int {
		long pin;
		const char *token;
	} s;
	const struct craft_config_field secret_fields[] = {
	    {.name = "PIN",
	     .type = CRAFT_CONFIG_INT,
	     .default_value = "1234",
	     .min = 0,
	     .max = 9999,
	     .secret = true,
	     .offset = offsetof(struct secret_int, pin)},
	    {.name = "TOKEN",
	     .type = CRAFT_CONFIG_STR,
	     .default_value = "dev-token",
	     .min = 64,
	     .secret = true,
	     .offset = offsetof(struct secret_int, token)},
	};
	struct fake_env env = {
	    {{"PIN", "98765-" SECRET_VALUE}, {"TOKEN", SECRET_VALUE}, {NULL, NULL}}};
	char err[512];

	assert_int_equal(
	    craft_config_load(secret_fields, 2, &s, fake_lookup, &env, false, err, sizeof(err)),
	    CRAFT_EINVAL);
	assert_non_null(strstr(err, "PIN must be an integer between 0 and 9999"));
	assert_non_null(strstr(err, "TOKEN must be between 64 and 4096 characters long"));
	assert_null(strstr(err, "98765"));
	assert_null(strstr(err, SECRET_VALUE));
	assert_null(strstr(err, "got"));
}

static void test_is_development(void **state)
{
	(void)state;
	assert_false(craft_config_is_development(NULL)); /* unset: production */
	assert_false(craft_config_is_development(""));
	assert_true(craft_config_is_development("development"));
	assert_true(craft_config_is_development("dev"));
	assert_true(craft_config_is_development("local"));
	assert_true(craft_config_is_development("test"));
	assert_true(craft_config_is_development("Development"));
	assert_false(craft_config_is_development("production"));
	assert_false(craft_config_is_development("staging"));
	assert_false(craft_config_is_development("prod"));
	assert_false(craft_config_is_development("developmentx"));
}

static void test_getenv_default_lookup(void **state)
{
	(void)state;
	struct only {
		long n;
	} o;
	const struct craft_config_field f[] = {
	    {.name = "CRAFT_TEST_CONFIG_N",
	     .type = CRAFT_CONFIG_INT,
	     .default_value = "1",
	     .min = 0,
	     .max = 100,
	     .offset = offsetof(struct only, n)},
	};
	char err[128];

	setenv("CRAFT_TEST_CONFIG_N", "42", 1);
	assert_int_equal(craft_config_load(f, 1, &o, NULL, NULL, true, err, sizeof(err)), 0);
	assert_int_equal(o.n, 42);
	unsetenv("CRAFT_TEST_CONFIG_N");
	assert_int_equal(craft_config_load(f, 1, &o, NULL, NULL, true, err, sizeof(err)), 0);
	assert_int_equal(o.n, 1);
}

static json_t *logged_config(const struct cfg *cfg)
{
	FILE *f = tmpfile();
	char *line = NULL;
	size_t cap = 0;
	json_error_t error;

	assert_non_null(f);
	craft_log_init("test", CRAFT_LOG_INFO, f);
	craft_config_log(fields, CRAFT_ARRAY_LEN(fields), cfg);
	craft_log_init("craft", CRAFT_LOG_INFO, NULL);
	rewind(f);
	assert_true(getline(&line, &cap, f) > 0);
	assert_null(strstr(line, SECRET_VALUE));
	json_t *obj = json_loads(line, 0, &error);
	assert_non_null(obj);
	free(line);
	fclose(f);
	return obj;
}

static void test_config_log(void **state)
{
	(void)state;
	struct fake_env env = {
	    {{"INTERNAL_API_KEY", SECRET_VALUE}, {"PORT", "9000"}, {NULL, NULL}}};
	struct cfg cfg;
	char err[256];

	assert_int_equal(load(&env, false, &cfg, err, sizeof(err)), 0);
	json_t *line = logged_config(&cfg);
	assert_string_equal(json_string_value(json_object_get(line, "level")), "info");
	json_t *config = json_object_get(line, "config");
	assert_true(json_is_object(config));
	assert_int_equal(json_integer_value(json_object_get(config, "PORT")), 9000);
	assert_string_equal(json_string_value(json_object_get(config, "HOST")), "0.0.0.0");
	assert_true(json_is_false(json_object_get(config, "COOKIE_SECURE")));
	assert_string_equal(json_string_value(json_object_get(config, "INTERNAL_API_KEY")),
			    "(set)");
	assert_int_equal(json_object_size(config), CRAFT_ARRAY_LEN(fields));
	json_decref(line);
	craft_config_free(fields, CRAFT_ARRAY_LEN(fields), &cfg);

	struct fake_env dev = {{{NULL, NULL}}};
	assert_int_equal(load(&dev, true, &cfg, err, sizeof(err)), 0);
	line = logged_config(&cfg);
	config = json_object_get(line, "config");
	assert_string_equal(json_string_value(json_object_get(config, "INTERNAL_API_KEY")),
			    "(default)");
	json_decref(line);
	craft_config_free(fields, CRAFT_ARRAY_LEN(fields), &cfg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_defaults),
	    cmocka_unit_test(test_overrides),
	    cmocka_unit_test(test_bad_int),
	    cmocka_unit_test(test_bool_forms),
	    cmocka_unit_test(test_strings),
	    cmocka_unit_test(test_required_missing),
	    cmocka_unit_test(test_secret_default),
	    cmocka_unit_test(test_optional_secret),
	    cmocka_unit_test(test_secret_never_in_errors),
	    cmocka_unit_test(test_is_development),
	    cmocka_unit_test(test_getenv_default_lookup),
	    cmocka_unit_test(test_config_log),
	};
	return cmocka_run_group_tests_name("config", tests, NULL, NULL);
}
