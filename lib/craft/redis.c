/* redis.c - Redis connection pool with a circuit breaker (see redis.h and docs/redis.md). */
#include "redis.h"

#include "common.h"
#include "clock.h"
#include "log.h"
#include "slots.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>

#define DEFAULT_HOST        "127.0.0.1"
#define DEFAULT_PORT        6379u
#define DEFAULT_ACQUIRE_MS  100u
#define DEFAULT_CONNECT_MS  250u
#define DEFAULT_COMMAND_MS  250u
#define DEFAULT_THRESHOLD   3u
#define DEFAULT_COOLDOWN_MS 1000u
#define MAX_POOL_SIZE       1024u
#define VERB_MAX            24 /* span name: the command verb, e.g. "GET" */
#define CODE_MAX            32 /* first word of an error reply, e.g. "WRONGTYPE" */
#define MSG_MAX             128

struct script {
	char *name;
	char *lua;
	size_t len;
	char sha[CRAFT_REDIS_SHA1_HEX];
};

struct conn {
	redisContext *ctx; /* NULL until opened, and after a failure closed it */
	struct craft_redis_pool *pool;
	unsigned index; /* of its slot */
	bool opened_before;
};

struct craft_redis_pool {
	char *host;
	unsigned port;
	char *password; /* NULL: no AUTH */
	struct script *scripts;
	size_t nscripts;
	struct conn *conns;
	unsigned size;
	unsigned acquire_timeout_ms;
	struct timeval connect_tv, command_tv;
	craft_tracer *tracer;
	craft_circuit circuit;

	struct craft_slots slots; /* which connection is lent to whom; its mu guards run_id */
	atomic_ulong commands, failures, timeouts, reconnects;
	bool watch_restarts;       /* read run_id on each new connection */
	char run_id[48];           /* the server instance last seen (guarded by slots.mu) */
	atomic_ulong server_epoch; /* bumped when the server's run_id changes */
};

/* One use of the pool: the circuit's verdict, a slot, and what happened. */
struct call {
	craft_redis_pool *pool;
	struct conn *conn;
	enum craft_circuit_verdict verdict;
	bool reached;        /* the server answered at least once */
	bool failed;         /* connect failure, timeout or lost link */
	char error[MSG_MAX]; /* the last failure, for the circuit-open log */
};

/* ---- small helpers ---- */

static struct timeval ms_to_tv(unsigned ms)
{
	return (struct timeval){.tv_sec = ms / 1000u, .tv_usec = (long)(ms % 1000u) * 1000L};
}

static void count(atomic_ulong *counter)
{
	atomic_fetch_add_explicit(counter, 1, memory_order_relaxed);
}

/* The command verb, upper-cased, when it is a plain word; else "REDIS".
 * Only the verb ever reaches spans and logs, never the arguments. */
static void verb_of(const char *arg, size_t len, char verb[VERB_MAX])
{
	size_t n = 0;
	for (; n < len && n < VERB_MAX - 1; n++) {
		char ch = arg[n];
		if (ch >= 'a' && ch <= 'z')
			ch = (char)(ch - 'a' + 'A');
		if (!((ch >= 'A' && ch <= 'Z') || ch == '_' || ch == '.' ||
		      (n > 0 && ch >= '0' && ch <= '9')))
			break;
		verb[n] = ch;
	}
	if (n == 0 || n < len) {
		snprintf(verb, VERB_MAX, "%s", "REDIS");
		return;
	}
	verb[n] = '\0';
}

/* The first word of an error reply ("NOSCRIPT", "WRONGTYPE", "ERR"): the rest
 * of the message may quote arguments, so it is never kept. */
static void error_code(const redisReply *reply, char code[CODE_MAX])
{
	size_t n = 0;
	for (; reply->str && n < reply->len && n < CODE_MAX - 1; n++) {
		char ch = reply->str[n];
		if (!((ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '_' ||
		      ch == '-'))
			break;
		code[n] = ch;
	}
	code[n] = '\0';
	if (n == 0)
		snprintf(code, CODE_MAX, "%s", "ERR");
}

static void copy_msg(char dst[MSG_MAX], const char *src)
{
	snprintf(dst, MSG_MAX, "%s", src && *src ? src : "unknown error");
}

unsigned long craft_redis_server_epoch(craft_redis_pool *pool)
{
	return atomic_load(&pool->server_epoch);
}

void craft_redis_sha1_hex(const char *lua, size_t len, char out[CRAFT_REDIS_SHA1_HEX])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int md_len = 0;
	if (!EVP_Digest(lua, len, md, &md_len, EVP_sha1(), NULL) || md_len != 20)
		craft_oom(len); /* only fails when OpenSSL cannot allocate */
	craft_hex_encode(md, 20, out);
}

/* ---- spans ---- */

static craft_span *span_begin(craft_redis_pool *pool, const craft_span *parent, const char *verb)
{
	if (!pool->tracer || !parent) /* background work is not traced */
		return NULL;
	craft_span *span = craft_span_start(pool->tracer, parent, NULL, CRAFT_SPAN_CLIENT, verb);
	craft_span_set_str(span, "db.system.name", "redis");
	craft_span_set_str(span, "db.operation.name", verb);
	craft_span_set_str(span, "db.namespace", "0");
	craft_span_set_str(span, "server.address", pool->host);
	craft_span_set_int(span, "server.port", pool->port);
	return span;
}

static void span_finish(craft_span *span, int result, const char *code)
{
	if (result) {
		if (code && *code)
			craft_span_set_str(span, "db.response.status_code", code);
		craft_span_set_str(span, "error.type",
				   code && *code ? code : craft_strerror(result));
		craft_span_set_error(span, code && *code ? code : craft_strerror(result));
	}
	craft_span_end(span);
}

/* ---- pool lifecycle ---- */

static int scripts_copy(craft_redis_pool *pool, const struct craft_redis_script *scripts,
			size_t nscripts)
{
	pool->scripts = craft_xcalloc(nscripts, sizeof(*pool->scripts));
	for (size_t i = 0; i < nscripts; i++) {
		const struct craft_redis_script *s = &scripts[i];
		if (!s->name || !*s->name || !s->lua || !*s->lua)
			return CRAFT_EINVAL;
		for (size_t j = 0; j < i; j++)
			if (strcmp(scripts[j].name, s->name) == 0)
				return CRAFT_EINVAL;
		struct script *d = &pool->scripts[i];
		d->name = craft_xstrdup(s->name);
		d->lua = craft_xstrdup(s->lua);
		d->len = strlen(s->lua);
		craft_redis_sha1_hex(d->lua, d->len, d->sha);
		pool->nscripts++;
	}
	return CRAFT_OK;
}

static unsigned or_default(unsigned value, unsigned fallback)
{
	return value ? value : fallback;
}

int craft_redis_pool_new(const struct craft_redis_options *opts,
			 const struct craft_redis_script *scripts, size_t nscripts,
			 craft_redis_pool **out)
{
	*out = NULL;
	if (!opts || opts->size < 1 || opts->size > MAX_POOL_SIZE || opts->port > 65535 ||
	    (nscripts && !scripts))
		return CRAFT_EINVAL;
	craft_redis_pool *pool = craft_xcalloc(1, sizeof(*pool));
	pool->acquire_timeout_ms = or_default(opts->acquire_timeout_ms, DEFAULT_ACQUIRE_MS);
	craft_slots_init(&pool->slots, opts->size, pool->acquire_timeout_ms);
	craft_circuit_init(&pool->circuit, or_default(opts->failure_threshold, DEFAULT_THRESHOLD),
			   or_default(opts->cooldown_ms, DEFAULT_COOLDOWN_MS));
	pool->host = craft_xstrdup(opts->host && *opts->host ? opts->host : DEFAULT_HOST);
	pool->password = opts->password && *opts->password ? craft_xstrdup(opts->password) : NULL;
	pool->port = or_default(opts->port, DEFAULT_PORT);
	pool->size = opts->size;
	pool->connect_tv = ms_to_tv(or_default(opts->connect_timeout_ms, DEFAULT_CONNECT_MS));
	pool->command_tv = ms_to_tv(or_default(opts->command_timeout_ms, DEFAULT_COMMAND_MS));
	pool->tracer = opts->tracer;
	pool->watch_restarts = opts->watch_restarts;
	pool->conns = craft_xcalloc(pool->size, sizeof(*pool->conns));
	for (unsigned i = 0; i < pool->size; i++) {
		pool->conns[i].pool = pool;
		pool->conns[i].index = i;
	}
	int result = scripts_copy(pool, scripts, nscripts);
	if (result) {
		craft_redis_pool_free(pool);
		return result;
	}
	*out = pool;
	return CRAFT_OK;
}

static void conn_close(struct conn *c)
{
	if (c->ctx)
		redisFree(c->ctx);
	c->ctx = NULL;
	craft_slots_set_open(&c->pool->slots, c->index, false);
}

void craft_redis_pool_free(craft_redis_pool *pool)
{
	if (!pool)
		return;
	for (unsigned i = 0; pool->conns && i < pool->size; i++)
		conn_close(&pool->conns[i]);
	for (size_t i = 0; i < pool->nscripts; i++) {
		free(pool->scripts[i].name);
		free(pool->scripts[i].lua);
	}
	free(pool->scripts);
	free(pool->conns);
	free(pool->host);
	if (pool->password) {
		explicit_bzero(pool->password, strlen(pool->password));
		free(pool->password);
	}
	craft_circuit_cleanup(&pool->circuit);
	craft_slots_cleanup(&pool->slots);
	free(pool);
}

/* ---- slots ---- */

static struct conn *take_slot(craft_redis_pool *pool)
{
	unsigned i = 0;
	return craft_slots_take(&pool->slots, &i) == CRAFT_OK ? &pool->conns[i] : NULL;
}

static void give_slot(craft_redis_pool *pool, struct conn *c)
{
	craft_slots_give(&pool->slots, c->index);
}

/* ---- connections ---- */

/* An idle connection has nothing to read: anything readable (the end of the
 * stream after a server restart, or stray bytes) means it cannot be trusted. */
static bool conn_alive(const struct conn *c)
{
	if (!c->ctx || c->ctx->err || c->ctx->fd < 0)
		return false;
	struct pollfd p = {.fd = c->ctx->fd, .events = POLLIN};
	return poll(&p, 1, 0) == 0;
}

static void note_failure(struct call *call, const char *msg)
{
	call->failed = true;
	copy_msg(call->error, msg);
	count(&call->pool->failures);
}

/* Learn which server instance answers (INFO server's run_id); a different
 * one than before means Redis restarted, possibly with data of its own, and
 * bumps the epoch so caches can stop trusting old entries. Best effort: a
 * server that refuses INFO leaves the epoch alone. */
static void note_server(craft_redis_pool *pool, redisContext *ctx)
{
	redisReply *r = redisCommand(ctx, "INFO server");
	if (!r)
		return;
	const char *id = r->type == REDIS_REPLY_STRING ? strstr(r->str, "run_id:") : NULL;
	if (id) {
		id += 7;
		size_t n = strcspn(id, "\r\n");
		if (n > 0 && n < sizeof(pool->run_id)) {
			pthread_mutex_lock(&pool->slots.mu);
			bool changed = pool->run_id[0] && (strlen(pool->run_id) != n ||
							   memcmp(pool->run_id, id, n) != 0);
			memcpy(pool->run_id, id, n);
			pool->run_id[n] = '\0';
			pthread_mutex_unlock(&pool->slots.mu);
			if (changed)
				count(&pool->server_epoch);
		}
	}
	freeReplyObject(r);
}

/* AUTH on a new connection; the password never reaches a log or a span. */
static bool authenticate(craft_redis_pool *pool, redisContext *ctx)
{
	if (!pool->password)
		return true;
	redisReply *r = redisCommand(ctx, "AUTH %s", pool->password);
	bool ok = r && r->type == REDIS_REPLY_STATUS;
	if (r)
		freeReplyObject(r);
	else if (!ctx->err)
		ctx->err = REDIS_ERR_OTHER;
	if (!ok && !ctx->err) {
		ctx->err = REDIS_ERR_OTHER;
		snprintf(ctx->errstr, sizeof(ctx->errstr), "%s",
			 "authentication refused (check REDIS_PASSWORD)");
	}
	return ok;
}

static int conn_open(struct call *call, const craft_span *span)
{
	craft_redis_pool *pool = call->pool;
	struct conn *c = call->conn;
	conn_close(c);
	redisContext *ctx = redisConnectWithTimeout(pool->host, (int)pool->port, pool->connect_tv);
	if (!ctx)
		craft_oom(sizeof(*ctx));
	if (!ctx->err && redisSetTimeout(ctx, pool->command_tv) != REDIS_OK && !ctx->err)
		ctx->err = REDIS_ERR_OTHER;
	if (!ctx->err)
		authenticate(pool, ctx);
	if (ctx->err) {
		note_failure(call, ctx->errstr);
		craft_log(call->verdict == CRAFT_CIRCUIT_PROBE ? CRAFT_LOG_DEBUG : CRAFT_LOG_WARN,
			  span, "redis connect failed", "{s:s, s:i, s:s}", "server.address",
			  pool->host, "server.port", (int)pool->port, "error", call->error);
		redisFree(ctx);
		return CRAFT_EUNAVAIL;
	}
	redisEnableKeepAlive(ctx); /* best effort: finds dead peers on idle links */
	if (pool->watch_restarts)
		note_server(pool, ctx);
	c->ctx = ctx;
	craft_slots_set_open(&pool->slots, c->index, true);
	if (c->opened_before)
		count(&pool->reconnects);
	c->opened_before = true;
	return CRAFT_OK;
}

/* No reply: classify the failure and close the connection, whose state is
 * now unknown. `err` is errno right after the call. */
static int link_failure(struct call *call, const craft_span *span, const char *verb, int err)
{
	redisContext *ctx = call->conn->ctx;
	if (ctx->err == REDIS_ERR_OOM)
		craft_oom(0);
	int result = CRAFT_EUNAVAIL; /* end of stream, reset: the server went away */
	if (ctx->err == REDIS_ERR_IO && (err == EAGAIN || err == EWOULDBLOCK || err == ETIMEDOUT)) {
		result = CRAFT_ETIMEOUT;
		count(&call->pool->timeouts);
	} else if (ctx->err == REDIS_ERR_PROTOCOL || ctx->err == REDIS_ERR_OTHER) {
		result = CRAFT_EIO;
	}
	note_failure(call, result == CRAFT_ETIMEOUT ? "command timed out" : ctx->errstr);
	craft_log(call->verdict == CRAFT_CIRCUIT_PROBE ? CRAFT_LOG_DEBUG : CRAFT_LOG_WARN, span,
		  "redis command failed", "{s:s, s:s, s:s}", "command", verb, "result",
		  craft_strerror(result), "error", call->error);
	conn_close(call->conn);
	return result;
}

/* ---- one use of the pool ---- */

/* Ask the circuit, then take a slot. 0, or CRAFT_EUNAVAIL (nothing to undo). */
static int call_begin(craft_redis_pool *pool, const craft_span *parent, struct call *call)
{
	*call = (struct call){.pool = pool};
	call->verdict = craft_circuit_allow(&pool->circuit, craft_clock_ms());
	if (call->verdict == CRAFT_CIRCUIT_REJECT)
		return CRAFT_EUNAVAIL;
	call->conn = take_slot(pool);
	if (!call->conn) {
		craft_circuit_cancel(&pool->circuit);
		craft_log(CRAFT_LOG_WARN, parent, "redis pool exhausted", "{s:i}",
			  "acquire_timeout_ms", (int)pool->acquire_timeout_ms);
		return CRAFT_EUNAVAIL;
	}
	return CRAFT_OK;
}

/* Send one command on the call's connection (opening it if needed), in its
 * own span. *reply is set when the server answered, error replies included. */
static int call_exec(struct call *call, const craft_span *parent, int argc, const char **argv,
		     const size_t *argvlen, redisReply **reply)
{
	*reply = NULL;
	char verb[VERB_MAX];
	verb_of(argv[0], argvlen ? argvlen[0] : strlen(argv[0]), verb);
	craft_span *span = span_begin(call->pool, parent, verb);
	const craft_span *ctx = span ? span : parent;
	char code[CODE_MAX] = "";
	int result = conn_alive(call->conn) ? 0 : conn_open(call, ctx);
	if (result == CRAFT_OK) {
		count(&call->pool->commands);
		errno = 0;
		redisReply *r = redisCommandArgv(call->conn->ctx, argc, argv, argvlen);
		int err = errno;
		if (!r) {
			result = link_failure(call, ctx, verb, err);
		} else {
			call->reached = true;
			*reply = r;
			if (r->type == REDIS_REPLY_ERROR) {
				error_code(r, code);
				result = CRAFT_EIO;
			}
		}
	}
	if (result == CRAFT_EIO && *reply && strcmp(code, "NOSCRIPT") != 0)
		craft_log(CRAFT_LOG_WARN, ctx, "redis error reply", "{s:s, s:s}", "command", verb,
			  "error", code);
	span_finish(span, result, code);
	return result;
}

/* Give the slot back and tell the circuit; log its state changes once. */
static void call_end(struct call *call, const craft_span *parent)
{
	craft_redis_pool *pool = call->pool;
	give_slot(pool, call->conn);
	enum craft_circuit_change change = CRAFT_CIRCUIT_SAME;
	if (call->failed)
		change = craft_circuit_failure(&pool->circuit, craft_clock_ms());
	else if (call->reached)
		change = craft_circuit_success(&pool->circuit);
	else
		craft_circuit_cancel(&pool->circuit);
	if (change == CRAFT_CIRCUIT_OPENED)
		craft_log(CRAFT_LOG_WARN, parent, "redis circuit open: failing fast",
			  "{s:s, s:i, s:i, s:i, s:s}", "server.address", pool->host, "server.port",
			  (int)pool->port, "failures", (int)pool->circuit.threshold, "cooldown_ms",
			  (int)pool->circuit.cooldown_ms, "error", call->error);
	else if (change == CRAFT_CIRCUIT_RECOVERED)
		craft_log(CRAFT_LOG_INFO, parent, "redis circuit closed: redis answers again",
			  "{s:s, s:i}", "server.address", pool->host, "server.port",
			  (int)pool->port);
	else if (change == CRAFT_CIRCUIT_REOPENED)
		craft_log(CRAFT_LOG_DEBUG, parent, "redis circuit probe failed", "{s:s}", "error",
			  call->error);
}

/* Hand the reply to the arena (success and error replies) or free it. */
static void deliver(craft_arena *arena, redisReply **out, redisReply *reply, int result)
{
	if (out && reply && (result == CRAFT_OK || result == CRAFT_EIO)) {
		craft_arena_cleanup_add(arena, freeReplyObject, reply);
		*out = reply;
	} else if (reply) {
		freeReplyObject(reply);
	}
}

/* ---- public API ---- */

static bool args_ok(int argc, const char **argv, const size_t *argvlen)
{
	if (argc < 1 || argc > CRAFT_REDIS_ARGS_MAX || !argv)
		return false;
	for (int i = 0; i < argc; i++)
		if (!argv[i])
			return false;
	return (argvlen ? argvlen[0] : strlen(argv[0])) > 0;
}

int craft_redis_command(craft_redis_pool *pool, craft_arena *arena, const craft_span *parent,
			redisReply **out, int argc, const char **argv, const size_t *argvlen)
{
	if (out)
		*out = NULL;
	if (!args_ok(argc, argv, argvlen) || (out && !arena))
		return CRAFT_EINVAL;
	struct call call;
	int result = call_begin(pool, parent, &call);
	if (result)
		return result;
	redisReply *reply;
	result = call_exec(&call, parent, argc, argv, argvlen, &reply);
	call_end(&call, parent);
	deliver(arena, out, reply, result);
	return result;
}

static const struct script *script_find(const craft_redis_pool *pool, const char *name)
{
	for (size_t i = 0; name && i < pool->nscripts; i++)
		if (strcmp(pool->scripts[i].name, name) == 0)
			return &pool->scripts[i];
	return NULL;
}

static bool is_noscript(const redisReply *reply)
{
	return reply && reply->type == REDIS_REPLY_ERROR && reply->len >= 8 &&
	       memcmp(reply->str, "NOSCRIPT", 8) == 0;
}

/* EVALSHA, then EVAL on NOSCRIPT, on one connection. v/l have room for the
 * three leading arguments, which are filled in here. */
static int eval_run(struct call *call, const craft_span *parent, const struct script *s, int argc,
		    const char **v, size_t *l, redisReply **reply)
{
	v[0] = "EVALSHA";
	l[0] = 7;
	v[1] = s->sha;
	l[1] = 40;
	int result = call_exec(call, parent, argc, v, l, reply);
	if (result != CRAFT_EIO || !is_noscript(*reply))
		return result;
	freeReplyObject(*reply);
	v[0] = "EVAL";
	l[0] = 4;
	v[1] = s->lua;
	l[1] = s->len;
	return call_exec(call, parent, argc, v, l, reply);
}

int craft_redis_eval(craft_redis_pool *pool, craft_arena *arena, const craft_span *parent,
		     redisReply **out, const char *script, int numkeys, int argc, const char **argv,
		     const size_t *argvlen)
{
	if (out)
		*out = NULL;
	if (argc < 0 || argc > CRAFT_REDIS_ARGS_MAX - 3 || numkeys < 0 || numkeys > argc ||
	    (argc > 0 && !argv) || (out && !arena))
		return CRAFT_EINVAL;
	for (int i = 0; i < argc; i++)
		if (!argv[i])
			return CRAFT_EINVAL;
	const struct script *s = script_find(pool, script);
	if (!s) {
		craft_log(CRAFT_LOG_ERROR, parent, "redis script unknown", "{s:s?}", "script",
			  script);
		return CRAFT_ENOTFOUND;
	}
	const char **v = craft_xcalloc((size_t)argc + 3, sizeof(*v));
	size_t *l = craft_xcalloc((size_t)argc + 3, sizeof(*l));
	char nkeys[16];
	snprintf(nkeys, sizeof(nkeys), "%d", numkeys);
	v[2] = nkeys;
	l[2] = strlen(nkeys);
	for (int i = 0; i < argc; i++) {
		v[i + 3] = argv[i];
		l[i + 3] = argvlen ? argvlen[i] : strlen(v[i + 3]);
	}
	struct call call;
	redisReply *reply = NULL;
	int result = call_begin(pool, parent, &call);
	if (result)
		goto out;
	result = eval_run(&call, parent, s, argc + 3, v, l, &reply);
	call_end(&call, parent);
	deliver(arena, out, reply, result);
out:
	free(v);
	free(l);
	return result;
}

int craft_redis_ping(craft_redis_pool *pool, const craft_span *parent)
{
	craft_arena *arena = craft_arena_new(256);
	redisReply *reply = NULL;
	const char *argv[] = {"PING"};
	int result = craft_redis_command(pool, arena, parent, &reply, 1, argv, NULL);
	if (result == CRAFT_OK && !(reply && reply->type == REDIS_REPLY_STATUS && reply->len == 4 &&
				    memcmp(reply->str, "PONG", 4) == 0))
		result = CRAFT_EIO;
	craft_arena_free(arena);
	return result;
}

void craft_redis_pool_stats(craft_redis_pool *pool, struct craft_redis_stats *out)
{
	struct craft_circuit_stats cs;
	craft_circuit_stats(&pool->circuit, &cs);
	struct craft_slots_stats st;
	craft_slots_stats(&pool->slots, &st);
	out->size = st.size;
	out->in_use = st.in_use;
	out->acquire_timeouts = st.acquire_timeouts;
	out->circuit = cs.state;
	out->consecutive_failures = cs.failures;
	out->rejected = cs.rejected;
	out->circuit_opens = cs.opens;
	out->commands = atomic_load_explicit(&pool->commands, memory_order_relaxed);
	out->failures = atomic_load_explicit(&pool->failures, memory_order_relaxed);
	out->timeouts = atomic_load_explicit(&pool->timeouts, memory_order_relaxed);
	out->reconnects = atomic_load_explicit(&pool->reconnects, memory_order_relaxed);
}
