/* redis.h - a small pool of Redis connections that fails fast (hiredis, blocking API).
 *
 * Redis is only a cache here: every caller has a fallback, so the pool's job
 * is to answer quickly and predictably, never to wait long or retry hard.
 * Connections are opened lazily, bounded by a connect timeout; every command
 * by a command timeout. A circuit breaker (circuit.h) stops trying for a
 * cool-down after consecutive connection failures or timeouts, so a Redis
 * outage costs each request nothing but a mutex.
 *
 * Commands take binary-safe argument vectors (never format strings). Lua
 * scripts are registered at creation and run with EVALSHA (the SHA1 is
 * computed locally), falling back to EVAL when the server answers NOSCRIPT.
 *
 * Results: 0, or
 *   CRAFT_EUNAVAIL  circuit open, cannot connect, no free connection within
 *                   acquire_timeout_ms, or the link was lost
 *   CRAFT_ETIMEOUT  no answer within command_timeout_ms (the connection is
 *                   closed: its state is unknown)
 *   CRAFT_EIO       the server answered with an error reply (the reply is
 *                   still handed out), or a protocol error
 *   CRAFT_EINVAL    bad arguments; CRAFT_ENOTFOUND unknown script name
 * Each command runs in a client span named after its verb. Neither spans nor
 * logs ever carry keys, values or arguments. All functions are thread-safe.
 */
#ifndef CRAFT_REDIS_H
#define CRAFT_REDIS_H

#include <stdbool.h>
#include <stddef.h>

#include <hiredis/hiredis.h>

#include "arena.h"
#include "circuit.h"
#include "trace.h"

#define CRAFT_REDIS_SHA1_HEX 41 /* 40 hex digits + NUL */
#define CRAFT_REDIS_ARGS_MAX 1024

typedef struct craft_redis_pool craft_redis_pool;

/* A Lua script run by name with craft_redis_eval(). */
struct craft_redis_script {
	const char *name;
	const char *lua;
};

struct craft_redis_options {
	const char *host;            /* address or name; NULL = "127.0.0.1" */
	unsigned port;               /* 0 = 6379 */
	const char *password;        /* sent with AUTH on every new connection; NULL or "" = none */
	unsigned size;               /* connections, >= 1 (near the thread count) */
	unsigned acquire_timeout_ms; /* wait for a free connection; 0 = 100 */
	unsigned connect_timeout_ms; /* 0 = 250 */
	unsigned command_timeout_ms; /* per read/write of a command; 0 = 250 */
	unsigned failure_threshold;  /* consecutive failures that open the circuit; 0 = 3 */
	unsigned cooldown_ms;        /* circuit open before a probe; 0 = 1000 */
	craft_tracer *tracer;        /* client spans; may be NULL */
	bool watch_restarts;         /* ask INFO server for run_id on each new connection
					(see craft_redis_server_epoch) */
};

/* Create a pool; nothing is connected yet. Options and scripts are copied.
 * Returns 0 and *out, or CRAFT_EINVAL (size 0, port > 65535, a script
 * without name or code, duplicate script names). */
int craft_redis_pool_new(const struct craft_redis_options *opts,
			 const struct craft_redis_script *scripts, size_t nscripts,
			 craft_redis_pool **out);

/* Close every connection and free the pool; no command may be running.
 * craft_redis_pool_free(NULL) does nothing. */
void craft_redis_pool_free(craft_redis_pool *pool);

/* Run one command: argv[0] is the verb ("GET"), argvlen[i] the length of
 * argv[i] (argvlen NULL: every argument is a C string). On 0, and on
 * CRAFT_EIO from an error reply, *out is the reply, owned by `arena`
 * (freeReplyObject runs when the arena is freed); otherwise *out is NULL.
 * `out` may be NULL to discard the reply (then arena may be NULL too).
 * `parent` may be NULL. */
int craft_redis_command(craft_redis_pool *pool, craft_arena *arena, const craft_span *parent,
			redisReply **out, int argc, const char **argv, const size_t *argvlen);

/* Run the registered script `script` with EVALSHA; on NOSCRIPT, send it once
 * with EVAL on the same connection (which also caches it on the server).
 * argv holds `numkeys` keys followed by the script's other arguments
 * (argc in all). Reply, ownership and results as craft_redis_command(). */
int craft_redis_eval(craft_redis_pool *pool, craft_arena *arena, const craft_span *parent,
		     redisReply **out, const char *script, int numkeys, int argc, const char **argv,
		     const size_t *argvlen);

/* PING through the pool (and its circuit): 0 when the server answers PONG.
 * For /health; while the circuit is open it answers CRAFT_EUNAVAIL at once. */
int craft_redis_ping(craft_redis_pool *pool, const craft_span *parent);

struct craft_redis_stats {
	unsigned size, in_use;
	enum craft_circuit_state circuit;
	unsigned consecutive_failures; /* toward the threshold, while closed */
	unsigned long commands;        /* commands sent */
	unsigned long failures;        /* connect failures, timeouts, lost links */
	unsigned long timeouts;        /* commands that timed out */
	unsigned long rejected;        /* refused by the open circuit */
	unsigned long acquire_timeouts, reconnects, circuit_opens;
};

/* A snapshot of the pool's figures (for /metrics and /health). */
void craft_redis_pool_stats(craft_redis_pool *pool, struct craft_redis_stats *out);

/* A counter bumped each time the pool finds a different Redis instance
 * (INFO server run_id) behind the address than before: Redis restarted.
 * Always 0 unless the pool was created with watch_restarts. */
unsigned long craft_redis_server_epoch(craft_redis_pool *pool);

/* The SHA1 of `len` bytes of script text as lower-case hex (what EVALSHA
 * expects), written with a NUL into out. */
void craft_redis_sha1_hex(const char *lua, size_t len, char out[CRAFT_REDIS_SHA1_HEX]);

#endif
