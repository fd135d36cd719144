/* pg.h - a bounded pool of PostgreSQL connections with prepared statements.
 *
 * The pool owns `size` connection slots. Connections are opened lazily when a
 * slot is acquired, so a pool can be created while the server is down, and a
 * connection found dead (server restart, terminated backend) is closed and
 * reopened on its next use. Statements are registered once at creation and
 * prepared on each connection the first time it runs them.
 *
 * Results: 0, or
 *   CRAFT_EUNAVAIL  no free connection within acquire_timeout_ms, server
 *                   unreachable, or connection lost (after at most one
 *                   transparent retry, see docs/pg.md)
 *   CRAFT_ETIMEOUT  statement timeout (SQLSTATE 57014)
 *   CRAFT_ECONFLICT unique violation (23505)
 *   CRAFT_EINVAL    other data errors (22xxx, 23xxx) or bad arguments
 *   CRAFT_ENOTFOUND unknown statement name
 *   CRAFT_EIO       anything else
 * Errors are logged with the SQLSTATE and statement name, never with
 * parameter values. Every query runs in a client span when a tracer is set.
 * All functions are thread-safe on the pool; a craft_pg_conn belongs to the
 * thread that acquired it until it is released.
 */
#ifndef CRAFT_PG_H
#define CRAFT_PG_H

#include <stddef.h>

#include <libpq-fe.h>

#include "arena.h"
#include "trace.h"

typedef struct craft_pg_pool craft_pg_pool;
typedef struct craft_pg_conn craft_pg_conn;

/* A statement prepared on each connection; `sql` uses $1..$n placeholders. */
struct craft_pg_stmt {
	const char *name;
	const char *sql;
	int nparams;
};

struct craft_pg_options {
	const char *conninfo;          /* libpq URI or key=value string */
	unsigned size;                 /* connections, >= 1 (keep it near the core count) */
	unsigned acquire_timeout_ms;   /* bounded wait for a free connection; 0 = 2000 */
	unsigned connect_timeout_s;    /* libpq connect_timeout; 0 = conninfo's or 5 */
	unsigned statement_timeout_ms; /* server-side statement_timeout; 0 = 10000 */
	craft_tracer *tracer;          /* client spans, application_name; may be NULL */
};

/* Create a pool; nothing is connected yet. The options, conninfo and
 * statements are copied. Returns 0 and *out, or CRAFT_EINVAL for bad options
 * (size 0, unparsable conninfo, duplicate or empty statement names). */
int craft_pg_pool_new(const struct craft_pg_options *opts, const struct craft_pg_stmt *stmts,
		      size_t nstmts, craft_pg_pool **out);

/* Close every connection and free the pool. Every connection must have been
 * released. craft_pg_pool_free(NULL) does nothing. */
void craft_pg_pool_free(craft_pg_pool *pool);

/* Acquire a connection, run the prepared statement `stmt_name` with `nparams`
 * text parameters (NULL entries are SQL NULL) and release it. On success
 * *out (if out is not NULL) is the result, owned by `arena` (PQclear runs when
 * the arena is freed); on error *out is NULL. `parent` may be NULL. */
int craft_pg_exec(craft_pg_pool *pool, craft_arena *arena, const craft_span *parent,
		  const char *stmt_name, int nparams, const char *const *params, PGresult **out);

/* Take a connection for several commands (a transaction), waiting at most
 * acquire_timeout_ms for a free one and connecting it if needed. Returns 0
 * and *out, or CRAFT_EUNAVAIL. Give it back with craft_pg_release(). */
int craft_pg_acquire(craft_pg_pool *pool, const craft_span *parent, craft_pg_conn **out);

/* craft_pg_exec() on an acquired connection. A lost connection is retried
 * transparently only outside an explicit transaction (see docs/pg.md). */
int craft_pg_conn_exec(craft_pg_conn *conn, craft_arena *arena, const craft_span *parent,
		       const char *stmt_name, int nparams, const char *const *params,
		       PGresult **out);

/* Run a fixed SQL command without parameters and discard its result: for
 * BEGIN / COMMIT / ROLLBACK and the like, never for SQL built from input.
 * Every write of the services is one statement today, so only the tests of
 * the pool's transaction handling (rollback on release, no retry inside a
 * transaction) call it; it is the way a multi-statement write would. */
int craft_pg_conn_exec_sql(craft_pg_conn *conn, const craft_span *parent, const char *sql);

/* Give a connection back. A broken one is closed (reopened on a later
 * acquire); one left inside a transaction is rolled back, or closed when that
 * fails. conn may be NULL. */
void craft_pg_release(craft_pg_pool *pool, craft_pg_conn *conn);

/* Health check: SELECT 1 on a pooled connection within the pool's timeouts.
 * 0 when the database answers, else a CRAFT_E* result. */
int craft_pg_ping(craft_pg_pool *pool, const craft_span *parent);

struct craft_pg_stats {
	unsigned size, in_use, waiting;
	unsigned long acquired, acquire_timeouts, reconnects, errors;
};

/* A consistent snapshot of the pool's figures (for /metrics). */
void craft_pg_pool_stats(craft_pg_pool *pool, struct craft_pg_stats *out);

/* Write "host='..' port='..' user='..' password='..' dbname='..'" into out,
 * quoting each value per libpq rules (' and \ escaped with \). NULL or empty
 * arguments are left out. Returns 0, or CRAFT_ETOOBIG when out_len is too
 * small (out is then ""), CRAFT_EINVAL when out is NULL or out_len is 0. */
int craft_pg_conninfo_build(char *out, size_t out_len, const char *host, const char *port,
			    const char *user, const char *password, const char *dbname);

#endif
