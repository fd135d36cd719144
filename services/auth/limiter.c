#include "limiter.h"

#include "craft/common.h"

#include <openssl/sha.h>
#include <stdio.h>
#include <string.h>

#define LOGIN_PREFIX    "craftista:v1:auth:login:"
#define REGISTER_PREFIX "craftista:v1:auth:register:"

/* What every login script shares: Redis' clock in milliseconds, the cap (the
 * window, in ms, after the thresholds in ARGV) and the wait that n failures
 * past a threshold impose: 1 s at the threshold, doubling after, capped. */
#define LOGIN_LUA_PRELUDE                                                                          \
	"local t = redis.call('TIME')\n"                                                           \
	"local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)\n"                  \
	"local cap = tonumber(ARGV[#KEYS + 1])\n"                                                  \
	"local function delay(n, max)\n"                                                           \
	"  if n < max then return 0 end\n"                                                         \
	"  if n - max >= 40 then return cap end\n"                                                 \
	"  return math.min(1000 * 2 ^ (n - max), cap)\n"                                           \
	"end\n"

/* Milliseconds to wait (0 = allowed): KEYS counters; ARGV their thresholds, cap. */
static const char CHECK_LUA[] =
    LOGIN_LUA_PRELUDE "local wait = 0\n"
		      "for i, k in ipairs(KEYS) do\n"
		      "  local f = redis.call('HMGET', k, 'n', 'last')\n"
		      "  local n, last = tonumber(f[1]), tonumber(f[2])\n"
		      "  if n and last then\n"
		      "    local left = last + delay(n, tonumber(ARGV[i])) - now\n"
		      "    if left > wait then wait = left end\n"
		      "  end\n"
		      "end\n"
		      "return math.ceil(wait)\n";

/* Count a failure on every counter; each lives a window past its wait. */
static const char FAIL_LUA[] =
    LOGIN_LUA_PRELUDE "for i, k in ipairs(KEYS) do\n"
		      "  local n = redis.call('HINCRBY', k, 'n', 1)\n"
		      "  redis.call('HSET', k, 'last', now)\n"
		      "  redis.call('PEXPIRE', k, delay(n, tonumber(ARGV[i])) + cap)\n"
		      "end\n"
		      "return 0\n";

/* Count a registration in a fixed window: seconds to wait, or 0.
 * KEYS client counter; ARGV max, window in seconds. */
static const char REGISTER_LUA[] = "local n = redis.call('INCR', KEYS[1])\n"
				   "local ttl = redis.call('TTL', KEYS[1])\n"
				   "if ttl < 0 then\n"
				   "  redis.call('EXPIRE', KEYS[1], ARGV[2])\n"
				   "  ttl = tonumber(ARGV[2])\n"
				   "end\n"
				   "if n <= tonumber(ARGV[1]) then return 0 end\n"
				   "if ttl < 1 then ttl = 1 end\n"
				   "return ttl\n";

const struct craft_redis_script auth_limiter_scripts[] = {
    {.name = "login_check", .lua = CHECK_LUA},
    {.name = "login_fail", .lua = FAIL_LUA},
    {.name = "register_count", .lua = REGISTER_LUA},
};
const size_t auth_limiter_nscripts = CRAFT_ARRAY_LEN(auth_limiter_scripts);

const char *auth_limiter_account(craft_arena *arena, long long user_id, const char *name)
{
	if (user_id > 0)
		return craft_arena_sprintf(arena, "user:%lld", user_id);
	size_t n = strlen(name);
	char *lower = craft_arena_alloc(arena, n + 1);
	for (size_t i = 0; i <= n; i++) /* ASCII only: the C library's locale plays no part */
		lower[i] = name[i] >= 'A' && name[i] <= 'Z' ? (char)(name[i] - 'A' + 'a') : name[i];
	unsigned char d[SHA256_DIGEST_LENGTH];
	SHA256((const unsigned char *)lower, n, d);
	char hex[33];
	craft_hex_encode(d, 16, hex);
	return craft_arena_sprintf(arena, "name:%s", hex);
}

/* The counters of a login and their thresholds, as script arguments:
 * keys first, then the thresholds in the same order, then the cap. Only the
 * client's counter when `account` is NULL. Returns the number of keys. */
static int login_args(const struct auth_limiter *l, craft_arena *arena, const char *account,
		      const char *client, const char *argv[7])
{
	int k = 0;
	long max[3];
	if (account) {
		argv[k] = craft_arena_sprintf(arena, LOGIN_PREFIX "pair:%s:%.64s", account, client);
		max[k++] = l->max_pair;
		argv[k] = craft_arena_sprintf(arena, LOGIN_PREFIX "acct:%s", account);
		max[k++] = l->max_account;
	}
	argv[k] = craft_arena_sprintf(arena, LOGIN_PREFIX "ip:%.64s", client);
	max[k++] = l->max_client;
	for (int i = 0; i < k; i++)
		argv[k + i] = craft_arena_sprintf(arena, "%ld", max[i]);
	argv[2 * k] = craft_arena_sprintf(arena, "%ld", l->window_s * 1000);
	return k;
}

int auth_limiter_check(struct auth_limiter *l, craft_arena *arena, const craft_span *span,
		       const char *account, const char *client, long *retry_after)
{
	const char *argv[7];
	int nkeys = login_args(l, arena, account, client, argv);
	redisReply *reply = NULL;
	int rc = craft_redis_eval(l->redis, arena, span, &reply, "login_check", nkeys,
				  2 * nkeys + 1, argv, NULL);
	if (rc != CRAFT_OK || !reply || reply->type != REDIS_REPLY_INTEGER)
		return CRAFT_OK; /* fail open: Redis is only a helper */
	if (reply->integer <= 0)
		return CRAFT_OK;
	*retry_after = (long)((reply->integer + 999) / 1000);
	return CRAFT_ETOOBIG;
}

void auth_limiter_failure(struct auth_limiter *l, craft_arena *arena, const craft_span *span,
			  const char *account, const char *client)
{
	const char *argv[7];
	int nkeys = login_args(l, arena, account, client, argv);
	craft_redis_eval(l->redis, arena, span, NULL, "login_fail", nkeys, 2 * nkeys + 1, argv,
			 NULL);
}

void auth_limiter_success(struct auth_limiter *l, craft_arena *arena, const craft_span *span,
			  const char *account, const char *client)
{
	const char *argv[] = {
	    "DEL", craft_arena_sprintf(arena, LOGIN_PREFIX "pair:%s:%.64s", account, client)};
	craft_redis_command(l->redis, arena, span, NULL, 2, argv, NULL);
}

int auth_limiter_register(struct auth_limiter *l, craft_arena *arena, const craft_span *span,
			  const char *client, long *retry_after)
{
	const char *argv[] = {craft_arena_sprintf(arena, REGISTER_PREFIX "ip:%.64s", client),
			      craft_arena_sprintf(arena, "%ld", l->register_max),
			      craft_arena_sprintf(arena, "%ld", l->register_window_s)};
	redisReply *reply = NULL;
	int rc =
	    craft_redis_eval(l->redis, arena, span, &reply, "register_count", 1, 3, argv, NULL);
	if (rc != CRAFT_OK || !reply || reply->type != REDIS_REPLY_INTEGER)
		return CRAFT_OK; /* fail open */
	if (reply->integer <= 0)
		return CRAFT_OK;
	*retry_after = (long)reply->integer;
	return CRAFT_ETOOBIG;
}
