/* limiter.h - brute-force protection for logins, shared by every auth replica
 * through Redis: failed attempts are counted per account and per client
 * address in fixed windows; past a limit, logins are refused (429) until the
 * window ends. A successful login clears the account's count. Redis is only
 * a helper here: when it is down the limiter fails open (logins proceed) and
 * the Redis module logs the outage once. */
#ifndef AUTH_LIMITER_H
#define AUTH_LIMITER_H

#include "craft/arena.h"
#include "craft/redis.h"
#include "craft/trace.h"

struct auth_limiter {
	craft_redis_pool *redis;
	long max_account; /* failures per account per window */
	long max_client;  /* failures per client address per window */
	long window_s;
};

/* The Lua scripts the limiter runs, for craft_redis_pool_new(). */
extern const struct craft_redis_script auth_limiter_scripts[];
extern const size_t auth_limiter_nscripts;

/* 0 when the attempt may proceed; CRAFT_ETOOBIG when it must be refused, with
 * the seconds until it may be tried again in *retry_after. */
int auth_limiter_check(struct auth_limiter *l, craft_arena *arena, const craft_span *span,
		       const char *account, const char *client, long *retry_after);

/* Count a failed attempt against both. */
void auth_limiter_failure(struct auth_limiter *l, craft_arena *arena, const craft_span *span,
			  const char *account, const char *client);

/* Forget the account's failures after a successful login. */
void auth_limiter_success(struct auth_limiter *l, craft_arena *arena, const craft_span *span,
			  const char *account);

#endif
