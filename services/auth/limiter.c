#include "limiter.h"

#include "craft/common.h"

#include <ctype.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <string.h>

#define KEY_PREFIX "craftista:v1:auth:fail:"

/* Seconds to wait (0 = allowed): KEYS account, client; ARGV max_account, max_client. */
static const char CHECK_LUA[] = "local wait = 0\n"
				"for i = 1, 2 do\n"
				"  local n = tonumber(redis.call('GET', KEYS[i]) or '0')\n"
				"  if n >= tonumber(ARGV[i]) then\n"
				"    local ttl = redis.call('TTL', KEYS[i])\n"
				"    if ttl < 1 then ttl = 1 end\n"
				"    if ttl > wait then wait = ttl end\n"
				"  end\n"
				"end\n"
				"return wait\n";

/* Count a failure on every key; a key's window starts with its first failure. */
static const char FAIL_LUA[] =
    "for _, k in ipairs(KEYS) do\n"
    "  redis.call('INCR', k)\n"
    "  if redis.call('TTL', k) < 0 then redis.call('EXPIRE', k, ARGV[1]) end\n"
    "end\n"
    "return 0\n";

const struct craft_redis_script auth_limiter_scripts[] = {
    {.name = "login_check", .lua = CHECK_LUA},
    {.name = "login_fail", .lua = FAIL_LUA},
};
const size_t auth_limiter_nscripts = CRAFT_ARRAY_LEN(auth_limiter_scripts);

/* Keys are bounded: the account is hashed (case-folded first), the client
 * address is short by construction. */
static const char *account_key(craft_arena *arena, const char *account)
{
	size_t n = strlen(account);
	char *lower = craft_arena_alloc(arena, n + 1);
	for (size_t i = 0; i <= n; i++)
		lower[i] = (char)tolower((unsigned char)account[i]);
	unsigned char d[SHA256_DIGEST_LENGTH];
	SHA256((const unsigned char *)lower, n, d);
	char hex[33];
	for (int i = 0; i < 16; i++)
		snprintf(hex + 2 * i, 3, "%02x", d[i]);
	return craft_arena_sprintf(arena, KEY_PREFIX "acct:%s", hex);
}

static const char *client_key(craft_arena *arena, const char *client)
{
	return craft_arena_sprintf(arena, KEY_PREFIX "ip:%.64s", client);
}

int auth_limiter_check(struct auth_limiter *l, craft_arena *arena, const craft_span *span,
		       const char *account, const char *client, long *retry_after)
{
	char max_a[24], max_c[24];
	snprintf(max_a, sizeof(max_a), "%ld", l->max_account);
	snprintf(max_c, sizeof(max_c), "%ld", l->max_client);
	const char *argv[] = {account_key(arena, account), client_key(arena, client), max_a, max_c};
	redisReply *reply = NULL;
	int rc = craft_redis_eval(l->redis, arena, span, &reply, "login_check", 2, 4, argv, NULL);
	if (rc != CRAFT_OK || !reply || reply->type != REDIS_REPLY_INTEGER)
		return CRAFT_OK; /* fail open: Redis is only a helper */
	if (reply->integer <= 0)
		return CRAFT_OK;
	*retry_after = (long)reply->integer;
	return CRAFT_ETOOBIG;
}

void auth_limiter_failure(struct auth_limiter *l, craft_arena *arena, const craft_span *span,
			  const char *account, const char *client)
{
	char window[24];
	snprintf(window, sizeof(window), "%ld", l->window_s);
	const char *argv[] = {account_key(arena, account), client_key(arena, client), window};
	craft_redis_eval(l->redis, arena, span, NULL, "login_fail", 2, 3, argv, NULL);
}

void auth_limiter_success(struct auth_limiter *l, craft_arena *arena, const craft_span *span,
			  const char *account)
{
	const char *argv[] = {"DEL", account_key(arena, account)};
	craft_redis_command(l->redis, arena, span, NULL, 2, argv, NULL);
}
