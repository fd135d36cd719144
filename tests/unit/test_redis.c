/* test_redis.c - the Redis pool: always against small in-process fakes (a
 * closed port, a listener that never answers, a scripted RESP server), and
 * against a real Redis on 127.0.0.1 when CRAFT_TEST_REDIS_PORT is set. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "craft/arena.h"
#include "craft/circuit.h"
#include "craft/clock.h"
#include "craft/common.h"
#include "craft/redis.h"
#include "craft/trace.h"

static const struct craft_redis_script scripts[] = {
    {.name = "incr_by", .lua = "return redis.call('INCRBY', KEYS[1], ARGV[1])"},
    {.name = "one", .lua = "return 1"},
};

static void sleep_ms(unsigned ms)
{
	struct timespec ts = {.tv_sec = ms / 1000u, .tv_nsec = (long)(ms % 1000u) * 1000000L};
	while (nanosleep(&ts, &ts) != 0)
		;
}

/* ---- sockets ---- */

static int listen_on(unsigned port, unsigned *bound)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	int one = 1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(fd, 16), 0);
	socklen_t len = sizeof(sa);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	*bound = ntohs(sa.sin_port);
	return fd;
}

/* A port nothing listens on (bound once, then closed). */
static unsigned closed_port(void)
{
	unsigned port;
	int fd = listen_on(0, &port);
	close(fd);
	return port;
}

/* ---- a scripted RESP server: one connection at a time, one reply per command ---- */

struct fake {
	int lfd;
	unsigned port;
	pthread_t thread;
	atomic_bool stop;
	const char *const *replies; /* the last one repeats */
	size_t nreplies, next;
	bool close_after_reply;
	pthread_mutex_t mu;
	char seen[8192]; /* every byte received, for assertions */
	size_t seen_len;
	atomic_uint accepted, closed;
};

/* Length of one complete RESP command at the start of buf, or 0. */
static size_t resp_command_len(const char *buf, size_t len)
{
	char *end;
	if (len < 4 || buf[0] != '*')
		return 0;
	const char *nl = memchr(buf, '\n', len);
	if (!nl)
		return 0;
	long n = strtol(buf + 1, &end, 10);
	size_t pos = (size_t)(nl - buf) + 1;
	for (long i = 0; i < n; i++) {
		if (pos >= len || buf[pos] != '$')
			return 0;
		nl = memchr(buf + pos, '\n', len - pos);
		if (!nl)
			return 0;
		long blen = strtol(buf + pos + 1, &end, 10);
		pos = (size_t)(nl - buf) + 1 + (size_t)blen + 2;
		if (pos > len)
			return 0;
	}
	return pos;
}

static void fake_serve(struct fake *f, int cfd)
{
	char buf[4096];
	size_t have = 0;
	while (!atomic_load(&f->stop)) {
		struct pollfd p = {.fd = cfd, .events = POLLIN};
		if (poll(&p, 1, 20) <= 0)
			continue;
		ssize_t n = read(cfd, buf + have, sizeof(buf) - have);
		if (n <= 0)
			return;
		pthread_mutex_lock(&f->mu);
		size_t room = sizeof(f->seen) - f->seen_len;
		size_t take = (size_t)n < room ? (size_t)n : room;
		memcpy(f->seen + f->seen_len, buf + have, take);
		f->seen_len += take;
		pthread_mutex_unlock(&f->mu);
		have += (size_t)n;
		size_t cmd;
		while ((cmd = resp_command_len(buf, have)) > 0) {
			const char *r =
			    f->replies[f->next < f->nreplies ? f->next : f->nreplies - 1];
			f->next++;
			if (write(cfd, r, strlen(r)) < 0)
				return;
			memmove(buf, buf + cmd, have - cmd);
			have -= cmd;
			if (f->close_after_reply)
				return;
		}
	}
}

static void *fake_main(void *arg)
{
	struct fake *f = arg;
	while (!atomic_load(&f->stop)) {
		struct pollfd p = {.fd = f->lfd, .events = POLLIN};
		if (poll(&p, 1, 20) <= 0)
			continue;
		int cfd = accept(f->lfd, NULL, NULL);
		if (cfd < 0)
			continue;
		atomic_fetch_add(&f->accepted, 1);
		fake_serve(f, cfd);
		close(cfd);
		atomic_fetch_add(&f->closed, 1);
	}
	return NULL;
}

static struct fake *fake_start(unsigned port, const char *const *replies, size_t nreplies)
{
	struct fake *f = calloc(1, sizeof(*f));
	assert_non_null(f);
	f->replies = replies;
	f->nreplies = nreplies;
	pthread_mutex_init(&f->mu, NULL);
	f->lfd = listen_on(port, &f->port);
	assert_int_equal(pthread_create(&f->thread, NULL, fake_main, f), 0);
	return f;
}

static void fake_stop(struct fake *f)
{
	atomic_store(&f->stop, true);
	pthread_join(f->thread, NULL);
	close(f->lfd);
	pthread_mutex_destroy(&f->mu);
	free(f);
}

static bool fake_saw(struct fake *f, const char *needle)
{
	pthread_mutex_lock(&f->mu);
	bool found = memmem(f->seen, f->seen_len, needle, strlen(needle)) != NULL;
	pthread_mutex_unlock(&f->mu);
	return found;
}

/* ---- spans ---- */

struct sink {
	pthread_mutex_t mu;
	craft_span *spans[32];
	size_t n;
};

static void sink_put(void *ctx, craft_span *span)
{
	struct sink *s = ctx;
	pthread_mutex_lock(&s->mu);
	if (s->n < CRAFT_ARRAY_LEN(s->spans))
		s->spans[s->n++] = span;
	else
		craft_span_free(span);
	pthread_mutex_unlock(&s->mu);
}

static void sink_clear(struct sink *s)
{
	for (size_t i = 0; i < s->n; i++)
		craft_span_free(s->spans[i]);
	s->n = 0;
}

static const struct craft_span_attr *attr(const craft_span *span, const char *key)
{
	for (size_t i = 0; i < craft_span_attr_count(span); i++)
		if (strcmp(craft_span_attr_at(span, i)->key, key) == 0)
			return craft_span_attr_at(span, i);
	return NULL;
}

static void assert_attr_str(const craft_span *span, const char *key, const char *value)
{
	const struct craft_span_attr *a = attr(span, key);
	assert_non_null(a);
	assert_int_equal(a->type, CRAFT_ATTR_STR);
	assert_string_equal(a->str, value);
}

/* No attribute, name or error of the span mentions `text`. */
static void assert_span_clean(const craft_span *span, const char *text)
{
	assert_null(strstr(craft_span_name(span), text));
	for (size_t i = 0; i < craft_span_attr_count(span); i++) {
		const struct craft_span_attr *a = craft_span_attr_at(span, i);
		if (a->type == CRAFT_ATTR_STR)
			assert_null(strstr(a->str, text));
	}
	if (craft_span_error(span))
		assert_null(strstr(craft_span_error(span), text));
}

/* ---- pools ---- */

struct pool_cfg {
	unsigned port, size, acquire_ms, command_ms, threshold, cooldown_ms;
	craft_tracer *tracer;
};

static craft_redis_pool *pool_make(const struct pool_cfg *cfg)
{
	struct craft_redis_options opts = {.host = "127.0.0.1",
					   .port = cfg->port,
					   .size = cfg->size ? cfg->size : 1,
					   .acquire_timeout_ms = cfg->acquire_ms,
					   .connect_timeout_ms = 200,
					   .command_timeout_ms = cfg->command_ms,
					   .failure_threshold = cfg->threshold,
					   .cooldown_ms = cfg->cooldown_ms,
					   .tracer = cfg->tracer};
	craft_redis_pool *pool = NULL;
	assert_int_equal(craft_redis_pool_new(&opts, scripts, CRAFT_ARRAY_LEN(scripts), &pool), 0);
	return pool;
}

static int run(craft_redis_pool *pool, craft_arena *arena, redisReply **out, int argc,
	       const char **argv)
{
	return craft_redis_command(pool, arena, NULL, out, argc, argv, NULL);
}

static struct craft_redis_stats stats_of(craft_redis_pool *pool)
{
	struct craft_redis_stats st;
	craft_redis_pool_stats(pool, &st);
	return st;
}

/* ---- pure tests ---- */

static void test_sha1(void **state)
{
	(void)state;
	char hex[CRAFT_REDIS_SHA1_HEX];
	craft_redis_sha1_hex("return 1", 8, hex);
	assert_string_equal(hex, "e0e1f9fabfc9d4800c877a703b823ac0578ff8db");
	craft_redis_sha1_hex("", 0, hex);
	assert_string_equal(hex, "da39a3ee5e6b4b0d3255bfef95601890afd80709");
}

static void test_pool_new_invalid(void **state)
{
	(void)state;
	craft_redis_pool *pool = (craft_redis_pool *)&pool;
	struct craft_redis_options opts = {.size = 0};
	assert_int_equal(craft_redis_pool_new(&opts, NULL, 0, &pool), CRAFT_EINVAL);
	assert_null(pool);
	opts.size = 1;
	opts.port = 70000;
	assert_int_equal(craft_redis_pool_new(&opts, NULL, 0, &pool), CRAFT_EINVAL);
	opts.port = 0;
	const struct craft_redis_script dup[] = {{.name = "a", .lua = "return 1"},
						 {.name = "a", .lua = "return 2"}};
	assert_int_equal(craft_redis_pool_new(&opts, dup, 2, &pool), CRAFT_EINVAL);
	const struct craft_redis_script empty[] = {{.name = "a", .lua = ""}};
	assert_int_equal(craft_redis_pool_new(&opts, empty, 1, &pool), CRAFT_EINVAL);
	assert_int_equal(craft_redis_pool_new(&opts, NULL, 0, &pool), 0);
	struct craft_redis_stats st = stats_of(pool);
	assert_int_equal(st.size, 1);
	assert_int_equal(st.circuit, CRAFT_CIRCUIT_CLOSED);
	craft_redis_pool_free(pool);
	craft_redis_pool_free(NULL);
}

static void test_bad_arguments(void **state)
{
	(void)state;
	craft_redis_pool *pool = pool_make(&(struct pool_cfg){.port = closed_port()});
	craft_arena *arena = craft_arena_new(0);
	redisReply *reply = (redisReply *)&reply;
	const char *argv[] = {"GET", NULL};
	assert_int_equal(run(pool, arena, &reply, 0, argv), CRAFT_EINVAL);
	assert_null(reply);
	assert_int_equal(run(pool, arena, &reply, 2, argv), CRAFT_EINVAL); /* NULL argument */
	assert_int_equal(run(pool, NULL, &reply, 1, argv), CRAFT_EINVAL);  /* reply, no arena */
	assert_int_equal(craft_redis_eval(pool, arena, NULL, &reply, "nope", 0, 0, NULL, NULL),
			 CRAFT_ENOTFOUND);
	assert_int_equal(craft_redis_eval(pool, arena, NULL, &reply, "one", 2, 1, argv, NULL),
			 CRAFT_EINVAL);
	/* None of this touched the network or the circuit. */
	struct craft_redis_stats st = stats_of(pool);
	assert_int_equal(st.commands, 0);
	assert_int_equal(st.failures, 0);
	craft_arena_free(arena);
	craft_redis_pool_free(pool);
}

static void test_closed_port_opens_circuit(void **state)
{
	(void)state;
	craft_redis_pool *pool = pool_make(
	    &(struct pool_cfg){.port = closed_port(), .threshold = 3, .cooldown_ms = 60000});
	const char *argv[] = {"GET", "k"};
	for (int i = 0; i < 3; i++)
		assert_int_equal(run(pool, NULL, NULL, 2, argv), CRAFT_EUNAVAIL);
	struct craft_redis_stats st = stats_of(pool);
	assert_int_equal(st.failures, 3);
	assert_int_equal(st.circuit, CRAFT_CIRCUIT_OPEN);
	assert_int_equal(st.circuit_opens, 1);
	/* Open: refused without trying to connect. */
	for (int i = 0; i < 10; i++)
		assert_int_equal(run(pool, NULL, NULL, 2, argv), CRAFT_EUNAVAIL);
	assert_int_equal(craft_redis_ping(pool, NULL), CRAFT_EUNAVAIL);
	st = stats_of(pool);
	assert_int_equal(st.failures, 3);
	assert_int_equal(st.rejected, 11);
	assert_int_equal(st.commands, 0);
	assert_int_equal(st.in_use, 0);
	craft_redis_pool_free(pool);
}

static void test_timeout_discards_connection(void **state)
{
	(void)state;
	unsigned port;
	int hole = listen_on(0, &port); /* accepts in the kernel, never answers */
	craft_redis_pool *pool = pool_make(&(struct pool_cfg){
	    .port = port, .command_ms = 100, .threshold = 2, .cooldown_ms = 60000});
	const char *argv[] = {"GET", "k"};
	assert_int_equal(run(pool, NULL, NULL, 2, argv), CRAFT_ETIMEOUT);
	struct craft_redis_stats st = stats_of(pool);
	assert_int_equal(st.timeouts, 1);
	assert_int_equal(st.consecutive_failures, 1);
	assert_int_equal(st.circuit, CRAFT_CIRCUIT_CLOSED);
	/* The timed-out connection was closed: the next command connects again. */
	assert_int_equal(run(pool, NULL, NULL, 2, argv), CRAFT_ETIMEOUT);
	st = stats_of(pool);
	assert_int_equal(st.reconnects, 1);
	assert_int_equal(st.timeouts, 2);
	assert_int_equal(st.circuit, CRAFT_CIRCUIT_OPEN);
	assert_int_equal(run(pool, NULL, NULL, 2, argv), CRAFT_EUNAVAIL);
	assert_int_equal(stats_of(pool).commands, 2);
	craft_redis_pool_free(pool);
	close(hole);
}

static void test_recovery_after_cooldown(void **state)
{
	(void)state;
	const unsigned cooldown = 300;
	unsigned port = closed_port();
	craft_redis_pool *pool =
	    pool_make(&(struct pool_cfg){.port = port, .threshold = 1, .cooldown_ms = cooldown});
	uint64_t opened = craft_clock_ms();
	assert_int_equal(craft_redis_ping(pool, NULL), CRAFT_EUNAVAIL);
	assert_int_equal(stats_of(pool).circuit, CRAFT_CIRCUIT_OPEN);

	static const char *const pong[] = {"+PONG\r\n"};
	struct fake *f = fake_start(port, pong, 1);
	/* The server is back, but the circuit holds until the cool-down ends. */
	int rc = craft_redis_ping(pool, NULL);
	if (craft_clock_ms() - opened < cooldown) {
		assert_int_equal(rc, CRAFT_EUNAVAIL);
		assert_int_equal(atomic_load(&f->accepted), 0);
	}
	while (craft_clock_ms() - opened < cooldown + 20)
		sleep_ms(20);
	assert_int_equal(craft_redis_ping(pool, NULL), 0);
	struct craft_redis_stats st = stats_of(pool);
	assert_int_equal(st.circuit, CRAFT_CIRCUIT_CLOSED);
	assert_int_equal(st.circuit_opens, 1);
	assert_int_equal(craft_redis_ping(pool, NULL), 0);
	assert_int_equal(atomic_load(&f->accepted), 1); /* kept and reused */
	craft_redis_pool_free(pool);
	fake_stop(f);
}

static void test_stale_connection_reopened(void **state)
{
	(void)state;
	static const char *const pong[] = {"+PONG\r\n"};
	struct fake *f = fake_start(0, pong, 1);
	f->close_after_reply = true; /* like a server restart between commands */
	craft_redis_pool *pool = pool_make(&(struct pool_cfg){.port = f->port, .threshold = 1});
	assert_int_equal(craft_redis_ping(pool, NULL), 0);
	while (atomic_load(&f->closed) < 1)
		sleep_ms(5);
	sleep_ms(20); /* let the FIN arrive */
	assert_int_equal(craft_redis_ping(pool, NULL), 0);
	struct craft_redis_stats st = stats_of(pool);
	assert_int_equal(st.reconnects, 1);
	assert_int_equal(st.failures, 0);
	assert_int_equal(st.circuit, CRAFT_CIRCUIT_CLOSED);
	assert_int_equal(atomic_load(&f->accepted), 2);
	craft_redis_pool_free(pool);
	fake_stop(f);
}

static void test_error_reply_kept(void **state)
{
	(void)state;
	static const char *const wrong[] = {"-WRONGTYPE Operation against a key\r\n"};
	struct fake *f = fake_start(0, wrong, 1);
	craft_redis_pool *pool = pool_make(&(struct pool_cfg){.port = f->port, .threshold = 1});
	craft_arena *arena = craft_arena_new(0);
	redisReply *reply = NULL;
	const char *argv[] = {"INCR", "k"};
	assert_int_equal(run(pool, arena, &reply, 2, argv), CRAFT_EIO);
	assert_non_null(reply);
	assert_int_equal(reply->type, REDIS_REPLY_ERROR);
	assert_memory_equal(reply->str, "WRONGTYPE", 9);
	/* An error reply is an answer: the circuit counts no failure. */
	struct craft_redis_stats st = stats_of(pool);
	assert_int_equal(st.failures, 0);
	assert_int_equal(st.circuit, CRAFT_CIRCUIT_CLOSED);
	craft_arena_free(arena);
	craft_redis_pool_free(pool);
	fake_stop(f);
}

static void test_spans_carry_no_arguments(void **state)
{
	(void)state;
	static const char *const ok[] = {"+OK\r\n"};
	struct fake *f = fake_start(0, ok, 1);
	struct sink sink = {.n = 0};
	pthread_mutex_init(&sink.mu, NULL);
	craft_tracer *tracer = craft_tracer_new("test", "1", "test");
	craft_tracer_set_sink(tracer, sink_put, &sink);
	craft_redis_pool *pool = pool_make(&(struct pool_cfg){.port = f->port, .tracer = tracer});
	craft_span *parent = craft_span_start(tracer, NULL, NULL, CRAFT_SPAN_SERVER, "req");
	const char *argv[] = {"set", "secret-key", "secret-value"};
	assert_int_equal(craft_redis_command(pool, NULL, parent, NULL, 3, argv, NULL), 0);
	assert_true(fake_saw(f, "secret-value")); /* it did go to the server */
	assert_int_equal(sink.n, 1);
	const craft_span *span = sink.spans[0];
	assert_string_equal(craft_span_name(span), "SET");
	assert_int_equal(craft_span_kind_of(span), CRAFT_SPAN_CLIENT);
	assert_memory_equal(craft_span_parent_id(span), craft_span_context(parent)->span_id, 8);
	assert_attr_str(span, "db.system.name", "redis");
	assert_attr_str(span, "db.operation.name", "SET");
	assert_attr_str(span, "db.namespace", "0");
	assert_attr_str(span, "server.address", "127.0.0.1");
	assert_int_equal(attr(span, "server.port")->num, f->port);
	assert_null(craft_span_error(span));
	assert_span_clean(span, "secret");
	craft_span_end(parent);
	sink_clear(&sink);
	craft_redis_pool_free(pool);
	craft_tracer_free(tracer);
	pthread_mutex_destroy(&sink.mu);
	fake_stop(f);
}

static void free_span(void *span)
{
	craft_span_free(span);
}

static void test_eval_noscript_fallback(void **state)
{
	(void)state;
	static const char *const replies[] = {"-NOSCRIPT No matching script.\r\n", ":42\r\n"};
	struct fake *f = fake_start(0, replies, 2);
	struct sink sink = {.n = 0};
	pthread_mutex_init(&sink.mu, NULL);
	craft_tracer *tracer = craft_tracer_new("test", "1", "test");
	craft_tracer_set_sink(tracer, sink_put, &sink);
	craft_redis_pool *pool = pool_make(&(struct pool_cfg){.port = f->port, .tracer = tracer});
	craft_arena *arena = craft_arena_new(0);
	redisReply *reply = NULL;
	const char *argv[] = {"counter", "5"};
	craft_span *root = craft_span_start(tracer, NULL, NULL, CRAFT_SPAN_SERVER, "req");
	craft_arena_cleanup_add(arena, free_span, root);
	assert_int_equal(craft_redis_eval(pool, arena, root, &reply, "incr_by", 1, 2, argv, NULL),
			 0);
	assert_int_equal(reply->type, REDIS_REPLY_INTEGER);
	assert_int_equal(reply->integer, 42);
	char sha[CRAFT_REDIS_SHA1_HEX];
	craft_redis_sha1_hex(scripts[0].lua, strlen(scripts[0].lua), sha);
	assert_true(fake_saw(f, "EVALSHA"));
	assert_true(fake_saw(f, sha));
	assert_true(fake_saw(f, "$4\r\nEVAL\r\n"));
	assert_true(fake_saw(f, scripts[0].lua));
	assert_int_equal(sink.n, 2);
	assert_string_equal(craft_span_name(sink.spans[0]), "EVALSHA");
	assert_string_equal(craft_span_error(sink.spans[0]), "NOSCRIPT");
	assert_string_equal(craft_span_name(sink.spans[1]), "EVAL");
	assert_null(craft_span_error(sink.spans[1]));
	assert_span_clean(sink.spans[1], "counter");
	assert_int_equal(stats_of(pool).commands, 2);
	craft_arena_free(arena);
	sink_clear(&sink);
	craft_redis_pool_free(pool);
	craft_tracer_free(tracer);
	pthread_mutex_destroy(&sink.mu);
	fake_stop(f);
}

struct holder {
	craft_redis_pool *pool;
	int result;
};

static void *hold_slot(void *arg)
{
	struct holder *h = arg;
	const char *argv[] = {"GET", "k"};
	h->result = run(h->pool, NULL, NULL, 2, argv);
	return NULL;
}

static void test_pool_exhausted(void **state)
{
	(void)state;
	unsigned port;
	int hole = listen_on(0, &port);
	craft_redis_pool *pool = pool_make(&(struct pool_cfg){
	    .port = port, .size = 1, .acquire_ms = 50, .command_ms = 500, .threshold = 3});
	struct holder h = {.pool = pool};
	pthread_t t;
	assert_int_equal(pthread_create(&t, NULL, hold_slot, &h), 0);
	while (stats_of(pool).in_use == 0)
		sleep_ms(2);
	const char *argv[] = {"GET", "k"};
	assert_int_equal(run(pool, NULL, NULL, 2, argv), CRAFT_EUNAVAIL);
	pthread_join(t, NULL);
	assert_int_equal(h.result, CRAFT_ETIMEOUT);
	struct craft_redis_stats st = stats_of(pool);
	assert_int_equal(st.acquire_timeouts, 1);
	/* Waiting for a slot says nothing about Redis: only the timeout counts. */
	assert_int_equal(st.consecutive_failures, 1);
	assert_int_equal(st.in_use, 0);
	craft_redis_pool_free(pool);
	close(hole);
}

/* ---- live tests: a real Redis on 127.0.0.1:$CRAFT_TEST_REDIS_PORT ---- */

static unsigned live_port(void)
{
	const char *p = getenv("CRAFT_TEST_REDIS_PORT");
	long port = p && *p ? strtol(p, NULL, 10) : 0;
	return port > 0 && port < 65536 ? (unsigned)port : 0;
}

static craft_redis_pool *live_pool(unsigned command_ms)
{
	return pool_make(&(struct pool_cfg){
	    .port = live_port(), .size = 2, .command_ms = command_ms, .threshold = 3});
}

/* A key of our own: craft:test:<pid>:<name>. */
static const char *key(char *buf, size_t len, const char *name)
{
	snprintf(buf, len, "craft:test:%ld:%s", (long)getpid(), name);
	return buf;
}

static void test_live_binary_values(void **state)
{
	(void)state;
	if (!live_port())
		skip();
	craft_redis_pool *pool = live_pool(1000);
	craft_arena *arena = craft_arena_new(0);
	char k[64];
	const char value[] = {'a', '\0', 'b', '\r', '\n', '\0', (char)0xff};
	const char *set[] = {"SET", key(k, sizeof(k), "bin"), value, "PX", "10000"};
	const size_t setlen[] = {3, strlen(k), sizeof(value), 2, 5};
	redisReply *reply = NULL;
	assert_int_equal(craft_redis_command(pool, arena, NULL, &reply, 5, set, setlen), 0);
	assert_int_equal(reply->type, REDIS_REPLY_STATUS);
	const char *get[] = {"GET", k};
	assert_int_equal(run(pool, arena, &reply, 2, get), 0);
	assert_int_equal(reply->type, REDIS_REPLY_STRING);
	assert_int_equal(reply->len, sizeof(value));
	assert_memory_equal(reply->str, value, sizeof(value));
	const char *del[] = {"DEL", k};
	assert_int_equal(run(pool, arena, &reply, 2, del), 0);
	assert_int_equal(reply->integer, 1);
	assert_int_equal(run(pool, arena, &reply, 2, get), 0);
	assert_int_equal(reply->type, REDIS_REPLY_NIL);
	assert_int_equal(craft_redis_ping(pool, NULL), 0);
	craft_arena_free(arena);
	craft_redis_pool_free(pool);
}

static void test_live_eval(void **state)
{
	(void)state;
	if (!live_port())
		skip();
	craft_redis_pool *pool = live_pool(1000);
	craft_arena *arena = craft_arena_new(0);
	redisReply *reply = NULL;
	const char *flush[] = {"SCRIPT", "FLUSH"};
	assert_int_equal(run(pool, arena, &reply, 2, flush), 0);
	char k[64];
	const char *argv[] = {key(k, sizeof(k), "counter"), "5"};
	uint64_t before = stats_of(pool).commands;
	assert_int_equal(craft_redis_eval(pool, arena, NULL, &reply, "incr_by", 1, 2, argv, NULL),
			 0);
	assert_int_equal(reply->integer, 5);
	assert_int_equal(stats_of(pool).commands - before, 2); /* EVALSHA, NOSCRIPT, EVAL */
	/* EVAL cached it: the next call is a single EVALSHA. */
	assert_int_equal(craft_redis_eval(pool, arena, NULL, &reply, "incr_by", 1, 2, argv, NULL),
			 0);
	assert_int_equal(reply->integer, 10);
	assert_int_equal(stats_of(pool).commands - before, 3);
	/* The server computes the same SHA1 as we do. */
	const char *load[] = {"SCRIPT", "LOAD", scripts[0].lua};
	assert_int_equal(run(pool, arena, &reply, 3, load), 0);
	char sha[CRAFT_REDIS_SHA1_HEX];
	craft_redis_sha1_hex(scripts[0].lua, strlen(scripts[0].lua), sha);
	assert_string_equal(reply->str, sha);
	/* A script error is an error reply, kept for the caller. */
	const char *text[] = {"SET", k, "not a number"};
	assert_int_equal(run(pool, arena, &reply, 3, text), 0);
	assert_int_equal(craft_redis_eval(pool, arena, NULL, &reply, "incr_by", 1, 2, argv, NULL),
			 CRAFT_EIO);
	assert_int_equal(reply->type, REDIS_REPLY_ERROR);
	const char *del[] = {"DEL", k};
	assert_int_equal(run(pool, arena, &reply, 2, del), 0);
	assert_int_equal(stats_of(pool).failures, 0);
	craft_arena_free(arena);
	craft_redis_pool_free(pool);
}

static void test_live_timeout_then_next_works(void **state)
{
	(void)state;
	if (!live_port())
		skip();
	craft_redis_pool *pool = live_pool(100);
	char k[64];
	/* BLPOP blocks only this client for 0.5 s: longer than the 100 ms timeout. */
	const char *blpop[] = {"BLPOP", key(k, sizeof(k), "never"), "0.5"};
	assert_int_equal(run(pool, NULL, NULL, 3, blpop), CRAFT_ETIMEOUT);
	struct craft_redis_stats st = stats_of(pool);
	assert_int_equal(st.timeouts, 1);
	assert_int_equal(st.consecutive_failures, 1);
	assert_int_equal(st.circuit, CRAFT_CIRCUIT_CLOSED);
	assert_int_equal(craft_redis_ping(pool, NULL), 0);
	st = stats_of(pool);
	assert_int_equal(st.consecutive_failures, 0);
	assert_int_equal(st.in_use, 0);
	craft_redis_pool_free(pool);
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN); /* as services do: hiredis writes with write() */
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_sha1),
	    cmocka_unit_test(test_pool_new_invalid),
	    cmocka_unit_test(test_bad_arguments),
	    cmocka_unit_test(test_closed_port_opens_circuit),
	    cmocka_unit_test(test_timeout_discards_connection),
	    cmocka_unit_test(test_recovery_after_cooldown),
	    cmocka_unit_test(test_stale_connection_reopened),
	    cmocka_unit_test(test_error_reply_kept),
	    cmocka_unit_test(test_spans_carry_no_arguments),
	    cmocka_unit_test(test_eval_noscript_fallback),
	    cmocka_unit_test(test_pool_exhausted),
	    cmocka_unit_test(test_live_binary_values),
	    cmocka_unit_test(test_live_eval),
	    cmocka_unit_test(test_live_timeout_then_next_works),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
