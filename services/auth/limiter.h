/* limiter.h - brute-force protection for logins and a registration quota,
 * shared by every auth replica through Redis.
 *
 * Failed logins are counted per (account, client address), per account across
 * clients and per client across accounts, each against its own threshold.
 * Past a threshold a counter makes that key wait before its next try: 1 s
 * after the failure that reached it, doubling with each further failure, at
 * most the window; the wait runs from the last failure, on Redis' clock. A
 * counter is forgotten once a window passes after its wait with no failure.
 * A successful login clears its (account, client) counter only.
 *
 * Registrations are counted per client address in fixed windows.
 *
 * Redis is only a helper here: when it is down the limiter fails open (logins
 * and registrations proceed) and the Redis module logs the outage once. */
#ifndef AUTH_LIMITER_H
#define AUTH_LIMITER_H

#include "craft/arena.h"
#include "craft/redis.h"
#include "craft/trace.h"

struct auth_limiter {
	craft_redis_pool *redis;
	long max_pair;          /* failures per (account, client) before waits */
	long max_account;       /* failures per account, across clients */
	long max_client;        /* failures per client, across accounts */
	long window_s;          /* longest wait; quiet time before a counter is forgotten */
	long register_max;      /* registrations per client per register window */
	long register_window_s; /* that window */
};

/* The Lua scripts the limiter runs, for craft_redis_pool_new(). */
extern const struct craft_redis_script auth_limiter_scripts[];
extern const size_t auth_limiter_nscripts;

/* The limiter's name for an account: the user's id when a login resolved to a
 * user (user_id > 0), so that every spelling of it (any case, its email)
 * shares one counter; else `name` folded to ASCII lower case. The result
 * lives in the arena and is short whatever `name` is. */
const char *auth_limiter_account(craft_arena *arena, long long user_id, const char *name);

/* 0 when a login attempt may proceed; CRAFT_ETOOBIG when it must wait, with
 * the whole seconds to wait in *retry_after. `account` (from
 * auth_limiter_account) may be NULL: then only the client is checked. */
int auth_limiter_check(struct auth_limiter *l, craft_arena *arena, const craft_span *span,
		       const char *account, const char *client, long *retry_after);

/* Count a failed login against the account, the client and the pair of them
 * (only the client when `account` is NULL). */
void auth_limiter_failure(struct auth_limiter *l, craft_arena *arena, const craft_span *span,
			  const char *account, const char *client);

/* Forget the failures of this account from this client after a successful
 * login (the account's count across clients stays). */
void auth_limiter_success(struct auth_limiter *l, craft_arena *arena, const craft_span *span,
			  const char *account, const char *client);

/* Count a registration attempt from `client`: 0 when it may proceed,
 * CRAFT_ETOOBIG past the quota, with the seconds until the window ends in
 * *retry_after. */
int auth_limiter_register(struct auth_limiter *l, craft_arena *arena, const craft_span *span,
			  const char *client, long *retry_after);

#endif
