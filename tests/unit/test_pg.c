/* test_pg.c - conninfo quoting (always) and the pool against a real
 * PostgreSQL when CRAFT_TEST_DATABASE_URL is set (else those tests skip). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "craft/arena.h"
#include "craft/common.h"
#include "craft/pg.h"
#include "craft/trace.h"

static const struct craft_pg_stmt stmts[] = {
    {.name = "add_one", .sql = "SELECT $1::int + 1 AS n", .nparams = 1},
    {.name = "is_null", .sql = "SELECT $1::text IS NULL", .nparams = 1},
    {.name = "pid", .sql = "SELECT pg_backend_pid()", .nparams = 0},
    {.name = "setting", .sql = "SELECT current_setting($1)", .nparams = 1},
    {.name = "sleep", .sql = "SELECT pg_sleep($1::float8)", .nparams = 1},
    {.name = "mk_table",
     .sql = "CREATE TEMP TABLE IF NOT EXISTS t_pg (id int PRIMARY KEY, label text)",
     .nparams = 0},
    {.name = "insert", .sql = "INSERT INTO t_pg (id) VALUES ($1::int)", .nparams = 1},
    {.name = "count", .sql = "SELECT count(*) FROM t_pg", .nparams = 0},
    {.name = "suicide_read", .sql = "SELECT pg_terminate_backend(pg_backend_pid())", .nparams = 0},
    {.name = "suicide_write",
     .sql = "WITH k AS (SELECT pg_terminate_backend(pg_backend_pid())) SELECT * FROM k",
     .nparams = 0},
};

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static const char *db_url(void)
{
	const char *url = getenv("CRAFT_TEST_DATABASE_URL");
	return url && *url ? url : NULL;
}

static craft_pg_pool *pool_make(unsigned size, unsigned acquire_ms, unsigned statement_ms,
				craft_tracer *tracer)
{
	struct craft_pg_options opts = {.conninfo = db_url(),
					.size = size,
					.acquire_timeout_ms = acquire_ms,
					.connect_timeout_s = 2,
					.statement_timeout_ms = statement_ms,
					.tracer = tracer};
	craft_pg_pool *pool = NULL;
	assert_int_equal(craft_pg_pool_new(&opts, stmts, CRAFT_ARRAY_LEN(stmts), &pool), 0);
	assert_non_null(pool);
	return pool;
}

/* The backend pid behind the pool's (only) connection. */
static long backend_pid(craft_pg_pool *pool)
{
	craft_arena *arena = craft_arena_new(0);
	PGresult *res = NULL;
	assert_int_equal(craft_pg_exec(pool, arena, NULL, "pid", 0, NULL, &res), 0);
	long pid = strtol(PQgetvalue(res, 0, 0), NULL, 10);
	craft_arena_free(arena);
	return pid;
}

/* Terminate a backend from a separate connection and wait until it is gone. */
/* A session setting of one of the pool's connections, e.g. "application_name". */
static void assert_setting(craft_pg_pool *pool, const char *name, const char *want)
{
	craft_arena *arena = craft_arena_new(0);
	PGresult *res = NULL;
	const char *params[] = {name};
	assert_int_equal(craft_pg_exec(pool, arena, NULL, "setting", 1, params, &res), 0);
	assert_string_equal(PQgetvalue(res, 0, 0), want);
	craft_arena_free(arena);
}

static void kill_backend(long pid)
{
	PGconn *admin = PQconnectdb(db_url());
	assert_int_equal(PQstatus(admin), CONNECTION_OK);
	char pidtxt[24];
	snprintf(pidtxt, sizeof(pidtxt), "%ld", pid);
	const char *params[] = {pidtxt};
	PGresult *res = PQexecParams(admin, "SELECT pg_terminate_backend($1::int)", 1, NULL, params,
				     NULL, NULL, 0);
	assert_int_equal(PQresultStatus(res), PGRES_TUPLES_OK);
	PQclear(res);
	bool gone = false;
	for (int i = 0; i < 100 && !gone; i++) {
		res =
		    PQexecParams(admin, "SELECT count(*) FROM pg_stat_activity WHERE pid = $1::int",
				 1, NULL, params, NULL, NULL, 0);
		gone = PQresultStatus(res) == PGRES_TUPLES_OK &&
		       strcmp(PQgetvalue(res, 0, 0), "0") == 0;
		PQclear(res);
		if (!gone)
			usleep(50 * 1000);
	}
	assert_true(gone);
	PQfinish(admin);
}

/* ---- conninfo (pure) ---- */

static void test_conninfo_plain(void **state)
{
	(void)state;
	char out[256];
	assert_int_equal(craft_pg_conninfo_build(out, sizeof(out), "db.local", "5432", "app",
						 "secret", "craftista"),
			 0);
	assert_string_equal(out, "host='db.local' port='5432' user='app' password='secret' "
				 "dbname='craftista'");
}

static void test_conninfo_quoting(void **state)
{
	(void)state;
	char out[256];
	assert_int_equal(
	    craft_pg_conninfo_build(out, sizeof(out), "h", NULL, "o'brien", "a\\b' c=d", ""), 0);
	assert_string_equal(out, "host='h' user='o\\'brien' password='a\\\\b\\' c=d'");
	/* libpq reads back exactly the values we quoted. */
	char *err = NULL;
	PQconninfoOption *opts = PQconninfoParse(out, &err);
	assert_non_null(opts);
	int seen = 0;
	for (PQconninfoOption *o = opts; o->keyword; o++) {
		if (strcmp(o->keyword, "user") == 0) {
			assert_string_equal(o->val, "o'brien");
			seen++;
		} else if (strcmp(o->keyword, "password") == 0) {
			assert_string_equal(o->val, "a\\b' c=d");
			seen++;
		} else if (strcmp(o->keyword, "dbname") == 0 || strcmp(o->keyword, "port") == 0) {
			assert_null(o->val);
		}
	}
	assert_int_equal(seen, 2);
	PQconninfoFree(opts);
}

static void test_conninfo_bounds(void **state)
{
	(void)state;
	const char *expect = "host='h' port='1'";
	char out[32];
	/* Exactly enough room (text + NUL) works; one byte less fails cleanly. */
	size_t need = strlen(expect) + 1;
	assert_int_equal(craft_pg_conninfo_build(out, need, "h", "1", NULL, NULL, NULL), 0);
	assert_string_equal(out, expect);
	assert_int_equal(craft_pg_conninfo_build(out, need - 1, "h", "1", NULL, NULL, NULL),
			 CRAFT_ETOOBIG);
	assert_string_equal(out, "");
	assert_int_equal(craft_pg_conninfo_build(NULL, 10, "h", NULL, NULL, NULL, NULL),
			 CRAFT_EINVAL);
	assert_int_equal(craft_pg_conninfo_build(out, 0, "h", NULL, NULL, NULL, NULL),
			 CRAFT_EINVAL);
	assert_int_equal(craft_pg_conninfo_build(out, sizeof(out), NULL, NULL, NULL, NULL, NULL),
			 0);
	assert_string_equal(out, "");
}

/* ---- pool without a server ---- */

static void test_pool_new_rejects(void **state)
{
	(void)state;
	craft_pg_pool *pool = (craft_pg_pool *)1;
	struct craft_pg_options opts = {.conninfo = "host=localhost", .size = 0};
	assert_int_equal(craft_pg_pool_new(&opts, NULL, 0, &pool), CRAFT_EINVAL);
	assert_null(pool);
	opts.size = 1;
	opts.conninfo = "host=localhost nosuchoption=1";
	assert_int_equal(craft_pg_pool_new(&opts, NULL, 0, &pool), CRAFT_EINVAL);
	opts.conninfo = "postgresql://u@h:5432/db";
	const struct craft_pg_stmt dup[] = {{.name = "a", .sql = "SELECT 1"},
					    {.name = "a", .sql = "SELECT 2"}};
	assert_int_equal(craft_pg_pool_new(&opts, dup, 2, &pool), CRAFT_EINVAL);
	assert_int_equal(craft_pg_pool_new(&opts, dup, 1, &pool), 0);
	craft_pg_pool_free(pool);
	craft_pg_pool_free(NULL);
}

static unsigned closed_port(void)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(fd >= 0);
	struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = 0};
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&addr, sizeof(addr)), 0);
	socklen_t len = sizeof(addr);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&addr, &len), 0);
	close(fd); /* nothing listens there any more */
	return ntohs(addr.sin_port);
}

static void test_server_down(void **state)
{
	(void)state;
	char conninfo[128];
	snprintf(conninfo, sizeof(conninfo), "host=127.0.0.1 port=%u user=x dbname=x",
		 closed_port());
	struct craft_pg_options opts = {
	    .conninfo = conninfo, .size = 2, .acquire_timeout_ms = 500, .connect_timeout_s = 1};
	craft_pg_pool *pool = NULL;
	assert_int_equal(craft_pg_pool_new(&opts, stmts, CRAFT_ARRAY_LEN(stmts), &pool), 0);
	craft_arena *arena = craft_arena_new(0);
	PGresult *res = (PGresult *)1;
	uint64_t t0 = now_ms();
	const char *params[] = {"1"};
	assert_int_equal(craft_pg_exec(pool, arena, NULL, "add_one", 1, params, &res),
			 CRAFT_EUNAVAIL);
	assert_null(res);
	assert_int_equal(craft_pg_ping(pool, NULL), CRAFT_EUNAVAIL);
	assert_true(now_ms() - t0 < 3000);
	struct craft_pg_stats st;
	craft_pg_pool_stats(pool, &st);
	assert_int_equal(st.size, 2);
	assert_int_equal(st.in_use, 0); /* failed connects give their slot back */
	assert_true(st.errors >= 2);
	craft_arena_free(arena);
	craft_pg_pool_free(pool);
}

/* ---- pool against PostgreSQL ---- */

#define NEED_DB()                                                                                  \
	do {                                                                                       \
		if (!db_url())                                                                     \
			skip();                                                                    \
	} while (0)

static void test_exec_prepared(void **state)
{
	(void)state;
	NEED_DB();
	craft_pg_pool *pool = pool_make(2, 1000, 5000, NULL);
	craft_arena *arena = craft_arena_new(0);
	for (int i = 0; i < 3; i++) { /* prepared once, then reused */
		PGresult *res = NULL;
		const char *params[] = {"41"};
		assert_int_equal(craft_pg_exec(pool, arena, NULL, "add_one", 1, params, &res), 0);
		assert_int_equal(PQntuples(res), 1);
		assert_string_equal(PQgetvalue(res, 0, 0), "42");
	}
	PGresult *res = NULL;
	const char *null_param[] = {NULL};
	assert_int_equal(craft_pg_exec(pool, arena, NULL, "is_null", 1, null_param, &res), 0);
	assert_string_equal(PQgetvalue(res, 0, 0), "t");
	/* Wrong parameter count is the caller's bug. */
	assert_int_equal(craft_pg_exec(pool, arena, NULL, "add_one", 0, NULL, &res), CRAFT_EINVAL);
	assert_int_equal(craft_pg_ping(pool, NULL), 0);
	assert_setting(pool, "statement_timeout", "5s");
	assert_setting(pool, "application_name", "craft"); /* no tracer: the default */
	struct craft_pg_stats st;
	craft_pg_pool_stats(pool, &st);
	assert_int_equal(st.in_use, 0);
	assert_true(st.acquired >= 5);
	craft_arena_free(arena); /* PQclear of every result runs here */
	craft_pg_pool_free(pool);
}

static void test_unknown_statement(void **state)
{
	(void)state;
	NEED_DB();
	craft_pg_pool *pool = pool_make(1, 1000, 5000, NULL);
	craft_arena *arena = craft_arena_new(0);
	PGresult *res = (PGresult *)1;
	assert_int_equal(craft_pg_exec(pool, arena, NULL, "nope", 0, NULL, &res), CRAFT_ENOTFOUND);
	assert_null(res);
	craft_pg_conn *conn = NULL;
	assert_int_equal(craft_pg_acquire(pool, NULL, &conn), 0);
	assert_int_equal(craft_pg_conn_exec(conn, arena, NULL, "nope", 0, NULL, &res),
			 CRAFT_ENOTFOUND);
	craft_pg_release(pool, conn);
	craft_arena_free(arena);
	craft_pg_pool_free(pool);
}

static int count_rows(craft_pg_conn *conn, craft_arena *arena)
{
	PGresult *res = NULL;
	assert_int_equal(craft_pg_conn_exec(conn, arena, NULL, "count", 0, NULL, &res), 0);
	return (int)strtol(PQgetvalue(res, 0, 0), NULL, 10);
}

static void test_data_errors(void **state)
{
	(void)state;
	NEED_DB();
	craft_pg_pool *pool = pool_make(1, 1000, 5000, NULL);
	craft_arena *arena = craft_arena_new(0);
	craft_pg_conn *conn = NULL;
	assert_int_equal(craft_pg_acquire(pool, NULL, &conn), 0);
	assert_int_equal(craft_pg_conn_exec(conn, arena, NULL, "mk_table", 0, NULL, NULL), 0);
	const char *one[] = {"1"};
	const char *bad[] = {"not a number"};
	assert_int_equal(craft_pg_conn_exec(conn, arena, NULL, "insert", 1, one, NULL), 0);
	assert_int_equal(craft_pg_conn_exec(conn, arena, NULL, "insert", 1, one, NULL),
			 CRAFT_ECONFLICT);
	assert_int_equal(craft_pg_conn_exec(conn, arena, NULL, "insert", 1, bad, NULL),
			 CRAFT_EINVAL);
	assert_int_equal(count_rows(conn, arena), 1);
	craft_pg_release(pool, conn);
	craft_arena_free(arena);
	craft_pg_pool_free(pool);
}

static void test_statement_timeout(void **state)
{
	(void)state;
	NEED_DB();
	craft_pg_pool *pool = pool_make(1, 1000, 200, NULL);
	craft_arena *arena = craft_arena_new(0);
	const char *params[] = {"3"};
	uint64_t t0 = now_ms();
	assert_int_equal(craft_pg_exec(pool, arena, NULL, "sleep", 1, params, NULL),
			 CRAFT_ETIMEOUT);
	assert_true(now_ms() - t0 < 2000);
	/* The connection stays usable after a server-side timeout. */
	const char *quick[] = {"0"};
	assert_int_equal(craft_pg_exec(pool, arena, NULL, "sleep", 1, quick, NULL), 0);
	struct craft_pg_stats st;
	craft_pg_pool_stats(pool, &st);
	assert_int_equal(st.reconnects, 0);
	craft_arena_free(arena);
	craft_pg_pool_free(pool);
}

static void test_acquire_timeout(void **state)
{
	(void)state;
	NEED_DB();
	craft_pg_pool *pool = pool_make(1, 300, 5000, NULL);
	craft_pg_conn *held = NULL, *other = NULL;
	assert_int_equal(craft_pg_acquire(pool, NULL, &held), 0);
	uint64_t t0 = now_ms();
	assert_int_equal(craft_pg_acquire(pool, NULL, &other), CRAFT_EUNAVAIL);
	uint64_t waited = now_ms() - t0;
	assert_null(other);
	assert_true(waited >= 250 && waited < 1500);
	craft_arena *arena = craft_arena_new(0);
	assert_int_equal(craft_pg_exec(pool, arena, NULL, "pid", 0, NULL, NULL), CRAFT_EUNAVAIL);
	struct craft_pg_stats st;
	craft_pg_pool_stats(pool, &st);
	assert_int_equal(st.in_use, 1);
	assert_int_equal(st.acquire_timeouts, 2);
	craft_pg_release(pool, held);
	assert_int_equal(craft_pg_exec(pool, arena, NULL, "pid", 0, NULL, NULL), 0);
	craft_arena_free(arena);
	craft_pg_pool_free(pool);
}

struct waiter {
	craft_pg_pool *pool;
	int result;
	uint64_t waited;
};

static void *wait_for_conn(void *arg)
{
	struct waiter *w = arg;
	craft_pg_conn *conn = NULL;
	uint64_t t0 = now_ms();
	w->result = craft_pg_acquire(w->pool, NULL, &conn);
	w->waited = now_ms() - t0;
	craft_pg_release(w->pool, conn);
	return NULL;
}

static void test_release_wakes_waiter(void **state)
{
	(void)state;
	NEED_DB();
	craft_pg_pool *pool = pool_make(1, 3000, 5000, NULL);
	craft_pg_conn *held = NULL;
	assert_int_equal(craft_pg_acquire(pool, NULL, &held), 0);
	struct waiter w = {.pool = pool, .result = 99};
	pthread_t th;
	assert_int_equal(pthread_create(&th, NULL, wait_for_conn, &w), 0);
	struct craft_pg_stats st = {0};
	for (int i = 0; i < 200 && st.waiting == 0; i++) {
		usleep(5000);
		craft_pg_pool_stats(pool, &st);
	}
	assert_int_equal(st.waiting, 1);
	craft_pg_release(pool, held);
	pthread_join(th, NULL);
	assert_int_equal(w.result, 0);
	assert_true(w.waited < 2000);
	craft_pg_pool_free(pool);
}

static void test_transaction(void **state)
{
	(void)state;
	NEED_DB();
	craft_pg_pool *pool = pool_make(1, 1000, 5000, NULL);
	craft_arena *arena = craft_arena_new(0);
	craft_pg_conn *conn = NULL;
	const char *ids[][1] = {{"1"}, {"2"}, {"3"}, {"4"}};
	assert_int_equal(craft_pg_acquire(pool, NULL, &conn), 0);
	assert_int_equal(craft_pg_conn_exec(conn, arena, NULL, "mk_table", 0, NULL, NULL), 0);
	int base = count_rows(conn, arena);
	/* Committed. */
	assert_int_equal(craft_pg_conn_exec_sql(conn, NULL, "BEGIN"), 0);
	assert_int_equal(craft_pg_conn_exec(conn, arena, NULL, "insert", 1, ids[0], NULL), 0);
	assert_int_equal(craft_pg_conn_exec_sql(conn, NULL, "COMMIT"), 0);
	assert_int_equal(count_rows(conn, arena), base + 1);
	/* Rolled back. */
	assert_int_equal(craft_pg_conn_exec_sql(conn, NULL, "BEGIN"), 0);
	assert_int_equal(craft_pg_conn_exec(conn, arena, NULL, "insert", 1, ids[1], NULL), 0);
	assert_int_equal(craft_pg_conn_exec_sql(conn, NULL, "ROLLBACK"), 0);
	assert_int_equal(count_rows(conn, arena), base + 1);
	/* A failed transaction cannot be committed: COMMIT reports it. */
	assert_int_equal(craft_pg_conn_exec_sql(conn, NULL, "BEGIN"), 0);
	assert_int_equal(craft_pg_conn_exec(conn, arena, NULL, "insert", 1, ids[2], NULL), 0);
	assert_int_equal(craft_pg_conn_exec(conn, arena, NULL, "insert", 1, ids[0], NULL),
			 CRAFT_ECONFLICT);
	assert_int_equal(craft_pg_conn_exec_sql(conn, NULL, "COMMIT"), CRAFT_EIO);
	assert_int_equal(count_rows(conn, arena), base + 1);
	/* Released while open: rolled back, the next user starts clean. */
	assert_int_equal(craft_pg_conn_exec_sql(conn, NULL, "BEGIN"), 0);
	assert_int_equal(craft_pg_conn_exec(conn, arena, NULL, "insert", 1, ids[3], NULL), 0);
	craft_pg_release(pool, conn);
	assert_int_equal(craft_pg_acquire(pool, NULL, &conn), 0);
	assert_int_equal(count_rows(conn, arena), base + 1);
	craft_pg_release(pool, conn);
	struct craft_pg_stats st;
	craft_pg_pool_stats(pool, &st);
	assert_int_equal(st.reconnects, 0); /* rollback, not a new connection */
	craft_arena_free(arena);
	craft_pg_pool_free(pool);
}

static void test_terminated_backend_recovers(void **state)
{
	(void)state;
	NEED_DB();
	craft_pg_pool *pool = pool_make(1, 1000, 5000, NULL);
	long pid = backend_pid(pool);
	kill_backend(pid);
	long again = backend_pid(pool); /* same call succeeds on a fresh connection */
	assert_true(again != pid);
	struct craft_pg_stats st;
	craft_pg_pool_stats(pool, &st);
	assert_int_equal(st.reconnects, 1);
	craft_pg_pool_free(pool);
}

static void test_lost_mid_query(void **state)
{
	(void)state;
	NEED_DB();
	craft_pg_pool *pool = pool_make(1, 1000, 5000, NULL);
	craft_arena *arena = craft_arena_new(0);
	struct craft_pg_stats st;
	(void)backend_pid(pool);
	/* A read-only statement whose connection dies is retried exactly once
	 * (it dies again, so the caller sees EUNAVAIL). */
	assert_int_equal(craft_pg_exec(pool, arena, NULL, "suicide_read", 0, NULL, NULL),
			 CRAFT_EUNAVAIL);
	craft_pg_pool_stats(pool, &st);
	assert_int_equal(st.reconnects, 1);
	(void)backend_pid(pool);
	craft_pg_pool_stats(pool, &st);
	assert_int_equal(st.reconnects, 2);
	/* A statement that may write is not run twice. */
	assert_int_equal(craft_pg_exec(pool, arena, NULL, "suicide_write", 0, NULL, NULL),
			 CRAFT_EUNAVAIL);
	craft_pg_pool_stats(pool, &st);
	assert_int_equal(st.reconnects, 2);
	craft_arena_free(arena);
	craft_pg_pool_free(pool);
}

static void test_lost_inside_transaction(void **state)
{
	(void)state;
	NEED_DB();
	craft_pg_pool *pool = pool_make(1, 1000, 5000, NULL);
	craft_arena *arena = craft_arena_new(0);
	craft_pg_conn *conn = NULL;
	assert_int_equal(craft_pg_acquire(pool, NULL, &conn), 0);
	PGresult *res = NULL;
	assert_int_equal(craft_pg_conn_exec(conn, arena, NULL, "pid", 0, NULL, &res), 0);
	long pid = strtol(PQgetvalue(res, 0, 0), NULL, 10);
	assert_int_equal(craft_pg_conn_exec_sql(conn, NULL, "BEGIN"), 0);
	kill_backend(pid);
	/* No silent reconnect: the rest of the transaction must fail. */
	assert_int_equal(craft_pg_conn_exec(conn, arena, NULL, "pid", 0, NULL, &res),
			 CRAFT_EUNAVAIL);
	assert_int_equal(craft_pg_conn_exec_sql(conn, NULL, "COMMIT"), CRAFT_EUNAVAIL);
	craft_pg_release(pool, conn);
	assert_true(backend_pid(pool) != pid);
	craft_arena_free(arena);
	craft_pg_pool_free(pool);
}

/* Spans handed to the sink, kept for inspection. */
struct collected {
	craft_span *spans[16];
	size_t n;
};

static void collect_span(void *ctx, craft_span *span)
{
	struct collected *c = ctx;
	if (c->n < CRAFT_ARRAY_LEN(c->spans))
		c->spans[c->n++] = span;
	else
		craft_span_free(span);
}

static const struct craft_span_attr *attr(const craft_span *span, const char *key)
{
	for (size_t i = 0; i < craft_span_attr_count(span); i++) {
		const struct craft_span_attr *a = craft_span_attr_at(span, i);
		if (strcmp(a->key, key) == 0)
			return a;
	}
	return NULL;
}

static const craft_span *find_span(const struct collected *c, const char *name)
{
	for (size_t i = 0; i < c->n; i++)
		if (strcmp(craft_span_name(c->spans[i]), name) == 0)
			return c->spans[i];
	return NULL;
}

static void test_client_spans(void **state)
{
	(void)state;
	NEED_DB();
	struct collected got = {.n = 0};
	craft_tracer *tracer = craft_tracer_new("test-pg", "0.0.1", "test");
	craft_tracer_set_sink(tracer, collect_span, &got);
	craft_pg_pool *pool = pool_make(1, 1000, 5000, tracer);
	craft_arena *arena = craft_arena_new(0);
	craft_span *parent = craft_span_start(tracer, NULL, NULL, CRAFT_SPAN_SERVER, "request");
	const char *params[] = {"1"};
	assert_int_equal(craft_pg_exec(pool, arena, parent, "add_one", 1, params, NULL), 0);
	const char *bad[] = {"x"};
	assert_int_equal(craft_pg_exec(pool, arena, parent, "add_one", 1, bad, NULL), CRAFT_EINVAL);
	craft_span_end(parent);

	const craft_span *q = find_span(&got, "add_one");
	assert_non_null(q);
	assert_int_equal(craft_span_kind_of(q), CRAFT_SPAN_CLIENT);
	assert_memory_equal(craft_span_parent_id(q),
			    craft_span_context(find_span(&got, "request"))->span_id, 8);
	assert_string_equal(attr(q, "db.system.name")->str, "postgresql");
	assert_string_equal(attr(q, "db.query.summary")->str, "add_one");
	assert_string_equal(attr(q, "db.operation.name")->str, "SELECT");
	assert_string_equal(attr(q, "db.query.text")->str, "SELECT $1::int + 1 AS n");
	assert_non_null(attr(q, "db.namespace"));
	assert_non_null(attr(q, "server.address"));
	assert_non_null(attr(q, "server.port"));
	assert_null(craft_span_error(q));
	assert_non_null(find_span(&got, "connect"));
	/* The failed call: a second add_one span, marked with the error. */
	const craft_span *failed = NULL;
	for (size_t i = 0; i < got.n; i++)
		if (got.spans[i] != q && strcmp(craft_span_name(got.spans[i]), "add_one") == 0)
			failed = got.spans[i];
	assert_non_null(failed);
	assert_non_null(craft_span_error(failed));
	assert_string_equal(attr(failed, "db.response.status_code")->str, "22P02");
	assert_string_equal(attr(failed, "error.type")->str, "22P02");

	assert_setting(pool, "application_name", "test-pg"); /* the tracer's service */

	for (size_t i = 0; i < got.n; i++)
		craft_span_free(got.spans[i]);
	craft_arena_free(arena);
	craft_pg_pool_free(pool);
	craft_tracer_free(tracer);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_conninfo_plain),
	    cmocka_unit_test(test_conninfo_quoting),
	    cmocka_unit_test(test_conninfo_bounds),
	    cmocka_unit_test(test_pool_new_rejects),
	    cmocka_unit_test(test_server_down),
	    cmocka_unit_test(test_exec_prepared),
	    cmocka_unit_test(test_unknown_statement),
	    cmocka_unit_test(test_data_errors),
	    cmocka_unit_test(test_statement_timeout),
	    cmocka_unit_test(test_acquire_timeout),
	    cmocka_unit_test(test_release_wakes_waiter),
	    cmocka_unit_test(test_transaction),
	    cmocka_unit_test(test_terminated_backend_recovers),
	    cmocka_unit_test(test_lost_mid_query),
	    cmocka_unit_test(test_lost_inside_transaction),
	    cmocka_unit_test(test_client_spans),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
