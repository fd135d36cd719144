/* pg.c - PostgreSQL connection pool on libpq (see pg.h and docs/pg.md). */
#include "pg.h"

#include "clock.h"
#include "common.h"
#include "log.h"
#include "slots.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define DEFAULT_ACQUIRE_MS   2000u
#define DEFAULT_CONNECT_S    5u
#define DEFAULT_STATEMENT_MS 10000u
#define CLIENT_GRACE_MS      5000u /* client deadline beyond the server's statement_timeout */
#define MAX_POOL_SIZE        1024u
#define MAX_PARAMS           65535
#define OP_MAX               16  /* first SQL word, e.g. "SELECT" */
#define MSG_MAX              256 /* error text kept for logs and spans */
#define EXTRA_KEYS           8   /* connection keywords we may add to the conninfo */

struct stmt {
	char *name;
	char *sql;
	int nparams;
	bool retry_safe; /* read-only: may run again after a lost connection */
	char op[OP_MAX];
	char server_name[32]; /* prepared statement name on the server */
};

struct craft_pg_conn {
	craft_pg_pool *pool;
	PGconn *pg;     /* NULL until opened, and after a failure closed it */
	bool *prepared; /* per pool statement, on this PGconn */
	bool in_tx;     /* inside an explicit transaction (kept when the link dies) */
	unsigned index; /* of its slot */
	bool opened_before;
};

struct craft_pg_pool {
	char **keys; /* libpq connection keywords and values, NULL-terminated */
	char **vals;
	size_t nkeys;
	const char *host, *port, *dbname; /* from the conninfo, for spans; may be NULL */
	struct stmt *stmts;
	size_t nstmts;
	struct craft_pg_conn *conns;
	unsigned size;
	unsigned acquire_timeout_ms;
	unsigned statement_timeout_ms;
	craft_tracer *tracer;

	struct craft_slots slots; /* which connection is lent to whom */
	atomic_ulong reconnects, errors;
	atomic_bool down_logged; /* a connect failure was logged at error level */
};

/* One command to run: a pool statement (st) or fixed SQL without parameters. */
struct query {
	const struct stmt *st;
	const char *sql;
	const char *const *params;
	int nparams;
	bool retry_safe;
	const char *label; /* for logs */
};

/* ---- small helpers ---- */

/* First SQL word, upper-cased, into op (OP_MAX bytes). */
static void first_word(const char *sql, char op[OP_MAX])
{
	size_t n = 0;
	while (*sql == ' ' || *sql == '\t' || *sql == '\n' || *sql == '\r' || *sql == '(')
		sql++;
	while (n < OP_MAX - 1 && ((*sql >= 'a' && *sql <= 'z') || (*sql >= 'A' && *sql <= 'Z'))) {
		op[n++] = (*sql >= 'a' && *sql <= 'z') ? (char)(*sql - 'a' + 'A') : *sql;
		sql++;
	}
	op[n] = '\0';
}

/* The operation of a statement that starts with WITH: the first word of the first
 * parenthesised body that is a query (a column list `x(a, b)` is skipped), so a CTE
 * that inserts is named INSERT, as the database conventions ask. */
static void cte_operation(const char *sql, char op[OP_MAX])
{
	static const char *const queries[] = {"SELECT", "INSERT", "UPDATE",
					      "DELETE", "MERGE",  "VALUES"};
	for (const char *p = strchr(sql, '('); p; p = strchr(p + 1, '(')) {
		first_word(p, op);
		for (size_t i = 0; i < CRAFT_ARRAY_LEN(queries); i++)
			if (strcmp(op, queries[i]) == 0)
				return;
	}
	op[0] = '\0';
}

/* Commands that change nothing when run twice. */
static bool op_retry_safe(const char *op)
{
	static const char *const safe[] = {"SELECT", "SHOW", "VALUES", "TABLE", "BEGIN", "START"};
	for (size_t i = 0; i < CRAFT_ARRAY_LEN(safe); i++)
		if (strcmp(op, safe[i]) == 0)
			return true;
	return false;
}

/* One line of text from `src` into dst (MSG_MAX), newlines turned into spaces. */
static void copy_msg(char dst[MSG_MAX], const char *src)
{
	size_t n = 0;
	for (; src && *src && n < MSG_MAX - 1; src++)
		dst[n++] = (*src == '\n' || *src == '\r' || *src == '\t') ? ' ' : *src;
	while (n > 0 && dst[n - 1] == ' ')
		n--;
	dst[n] = '\0';
}

static void clear_result(void *res)
{
	PQclear(res);
}

static void count_error(craft_pg_pool *pool)
{
	atomic_fetch_add_explicit(&pool->errors, 1, memory_order_relaxed);
}

/* ---- spans ---- */

static craft_span *span_begin(craft_pg_pool *pool, const craft_span *parent, PGconn *pg,
			      const char *name, const char *op, const char *sql)
{
	/* Client spans belong to a request's trace: background work (no parent)
	 * is not traced, so it cannot flood the collector with root spans. */
	if (!pool->tracer || !parent)
		return NULL;
	craft_span *span = craft_span_start(pool->tracer, parent, NULL, CRAFT_SPAN_CLIENT, name);
	const char *host = pg ? PQhost(pg) : pool->host;
	const char *port = pg ? PQport(pg) : pool->port;
	const char *db = pg ? PQdb(pg) : pool->dbname;
	craft_span_set_str(span, "db.system.name", "postgresql");
	/* the statement's label is the low-cardinality summary the span is named by */
	if (sql)
		craft_span_set_str(span, "db.query.summary", name);
	char cte_op[OP_MAX];
	if (op && sql && strcmp(op, "WITH") == 0) {
		cte_operation(sql, cte_op);
		op = cte_op;
	}
	if (op && *op)
		craft_span_set_str(span, "db.operation.name", op);
	if (sql)
		craft_span_set_str(span, "db.query.text", sql);
	if (db && *db)
		craft_span_set_str(span, "db.namespace", db);
	if (host && *host)
		craft_span_set_str(span, "server.address", host);
	if (port && *port) {
		long p = strtol(port, NULL, 10);
		if (p > 0 && p < 65536)
			craft_span_set_int(span, "server.port", p);
	}
	return span;
}

static void span_finish(craft_span *span, int result, const char *sqlstate)
{
	if (result) {
		if (sqlstate && *sqlstate)
			craft_span_set_str(span, "db.response.status_code", sqlstate);
		craft_span_set_str(span, "error.type",
				   sqlstate && *sqlstate ? sqlstate : craft_strerror(result));
		craft_span_set_error(span, craft_strerror(result));
	}
	craft_span_end(span);
}

/* ---- connection options ---- */

static void kv_add(craft_pg_pool *pool, const char *key, const char *val)
{
	pool->keys[pool->nkeys] = craft_xstrdup(key);
	pool->vals[pool->nkeys] = craft_xstrdup(val);
	pool->nkeys++;
}

static const char *kv_get(const craft_pg_pool *pool, const char *key)
{
	for (size_t i = 0; i < pool->nkeys; i++)
		if (strcmp(pool->keys[i], key) == 0)
			return pool->vals[i];
	return NULL;
}

/* Is `key` a keyword this libpq knows (whether or not it was given)? */
static bool known_key(const PQconninfoOption *opts, const char *key)
{
	for (; opts->keyword; opts++)
		if (strcmp(opts->keyword, key) == 0)
			return true;
	return false;
}

/* Parse the conninfo into keyword/value pairs and add our settings where the
 * conninfo leaves them open. */
static int config_build(craft_pg_pool *pool, const struct craft_pg_options *opts)
{
	char *err = NULL;
	PQconninfoOption *parsed = PQconninfoParse(opts->conninfo, &err);
	if (!parsed) {
		if (!err)
			craft_oom(0);
		PQfreemem(err); /* may quote the conninfo (a password): not logged */
		return CRAFT_EINVAL;
	}
	size_t n = 0;
	for (const PQconninfoOption *o = parsed; o->keyword; o++)
		n++;
	pool->keys = craft_xcalloc(n + EXTRA_KEYS + 1, sizeof(char *));
	pool->vals = craft_xcalloc(n + EXTRA_KEYS + 1, sizeof(char *));
	for (const PQconninfoOption *o = parsed; o->keyword; o++) {
		bool ours = opts->connect_timeout_s && strcmp(o->keyword, "connect_timeout") == 0;
		if (o->val && *o->val && !ours)
			kv_add(pool, o->keyword, o->val);
	}
	char timeout[16];
	snprintf(timeout, sizeof(timeout), "%u",
		 opts->connect_timeout_s ? opts->connect_timeout_s : DEFAULT_CONNECT_S);
	/* application_name: the service's name, unless the conninfo gives one. */
	const char *app = opts->tracer ? craft_tracer_service_name(opts->tracer) : NULL;
	if (!app || !*app)
		app = "craft";
	const struct {
		const char *key, *val;
	} defaults[] = {
	    {.key = "connect_timeout", .val = timeout},
	    {.key = "fallback_application_name", .val = app},
	    {.key = "keepalives", .val = "1"},
	    {.key = "keepalives_idle", .val = "30"},
	    {.key = "keepalives_interval", .val = "10"},
	    {.key = "keepalives_count", .val = "3"},
	};
	for (size_t i = 0; i < CRAFT_ARRAY_LEN(defaults); i++)
		if (!kv_get(pool, defaults[i].key) && known_key(parsed, defaults[i].key))
			kv_add(pool, defaults[i].key, defaults[i].val);
	PQconninfoFree(parsed);
	pool->host = kv_get(pool, "host");
	if (!pool->host)
		pool->host = kv_get(pool, "hostaddr");
	pool->port = kv_get(pool, "port");
	pool->dbname = kv_get(pool, "dbname");
	return CRAFT_OK;
}

static int stmts_copy(craft_pg_pool *pool, const struct craft_pg_stmt *stmts, size_t nstmts)
{
	pool->stmts = craft_xcalloc(nstmts, sizeof(*pool->stmts));
	for (size_t i = 0; i < nstmts; i++) {
		const struct craft_pg_stmt *s = &stmts[i];
		if (!s->name || !*s->name || !s->sql || s->nparams < 0 || s->nparams > MAX_PARAMS)
			return CRAFT_EINVAL;
		for (size_t j = 0; j < i; j++)
			if (strcmp(stmts[j].name, s->name) == 0)
				return CRAFT_EINVAL;
		struct stmt *d = &pool->stmts[i];
		d->name = craft_xstrdup(s->name);
		d->sql = craft_xstrdup(s->sql);
		d->nparams = s->nparams;
		first_word(s->sql, d->op);
		d->retry_safe = op_retry_safe(d->op);
		snprintf(d->server_name, sizeof(d->server_name), "craft_%zu", i);
		pool->nstmts++;
	}
	return CRAFT_OK;
}

static const struct stmt *stmt_find(const craft_pg_pool *pool, const char *name, size_t *index)
{
	for (size_t i = 0; name && i < pool->nstmts; i++) {
		if (strcmp(pool->stmts[i].name, name) == 0) {
			*index = i;
			return &pool->stmts[i];
		}
	}
	return NULL;
}

/* ---- pool lifecycle ---- */

int craft_pg_pool_new(const struct craft_pg_options *opts, const struct craft_pg_stmt *stmts,
		      size_t nstmts, craft_pg_pool **out)
{
	*out = NULL;
	if (!opts || !opts->conninfo || opts->size < 1 || opts->size > MAX_POOL_SIZE ||
	    (nstmts && !stmts))
		return CRAFT_EINVAL;
	craft_pg_pool *pool = craft_xcalloc(1, sizeof(*pool));
	atomic_init(&pool->down_logged, false);
	pool->acquire_timeout_ms =
	    opts->acquire_timeout_ms ? opts->acquire_timeout_ms : DEFAULT_ACQUIRE_MS;
	craft_slots_init(&pool->slots, opts->size, pool->acquire_timeout_ms);
	int result = config_build(pool, opts);
	if (result == CRAFT_OK)
		result = stmts_copy(pool, stmts, nstmts);
	if (result)
		goto out;
	pool->size = opts->size;
	pool->statement_timeout_ms =
	    opts->statement_timeout_ms ? opts->statement_timeout_ms : DEFAULT_STATEMENT_MS;
	pool->tracer = opts->tracer;
	pool->conns = craft_xcalloc(pool->size, sizeof(*pool->conns));
	for (unsigned i = 0; i < pool->size; i++) {
		pool->conns[i].pool = pool;
		pool->conns[i].index = i;
		pool->conns[i].prepared = craft_xcalloc(nstmts, sizeof(bool));
	}
	*out = pool;
out:
	if (result)
		craft_pg_pool_free(pool);
	return result;
}

static void conn_close(struct craft_pg_conn *c)
{
	if (c->pg)
		PQfinish(c->pg);
	c->pg = NULL;
	craft_slots_set_open(&c->pool->slots, c->index, false);
	memset(c->prepared, 0, c->pool->nstmts * sizeof(bool));
}

void craft_pg_pool_free(craft_pg_pool *pool)
{
	if (!pool)
		return;
	for (unsigned i = 0; pool->conns && i < pool->size; i++) {
		conn_close(&pool->conns[i]);
		free(pool->conns[i].prepared);
	}
	free(pool->conns);
	for (size_t i = 0; i < pool->nstmts; i++) {
		free(pool->stmts[i].name);
		free(pool->stmts[i].sql);
	}
	free(pool->stmts);
	for (size_t i = 0; i < pool->nkeys; i++) {
		free(pool->keys[i]);
		free(pool->vals[i]);
	}
	free(pool->keys);
	free(pool->vals);
	craft_slots_cleanup(&pool->slots);
	free(pool);
}

/* ---- talking to the server ---- */

/* Wait until a result can be read without blocking, at most until deadline. */
static int wait_ready(PGconn *pg, uint64_t deadline)
{
	while (PQisBusy(pg)) {
		uint64_t now = craft_clock_ms();
		if (now >= deadline)
			return CRAFT_ETIMEOUT;
		struct pollfd p = {.fd = PQsocket(pg), .events = POLLIN};
		if (p.fd < 0)
			return CRAFT_OK; /* link gone: PQgetResult reports it */
		uint64_t left = deadline - now;
		int n = poll(&p, 1, left > INT_MAX ? INT_MAX : (int)left);
		if (n < 0 && errno != EINTR)
			return CRAFT_OK;
		if (n > 0 && !PQconsumeInput(pg))
			return CRAFT_OK;
	}
	return CRAFT_OK;
}

/* Collect the results of the command just sent: the first failed one, else
 * the last. 0 with *res (NULL only if the server sent nothing), CRAFT_ETIMEOUT
 * past the client deadline, CRAFT_EIO for a COPY (never used here); on a
 * non-zero return the connection is unusable. */
static int await_result(PGconn *pg, unsigned timeout_ms, PGresult **res)
{
	uint64_t deadline = craft_clock_ms() + timeout_ms;
	PGresult *keep = NULL;
	int result = CRAFT_OK;
	for (;;) {
		result = wait_ready(pg, deadline);
		if (result)
			break;
		PGresult *r = PQgetResult(pg);
		if (!r)
			break;
		ExecStatusType st = PQresultStatus(r);
		if (st == PGRES_COPY_IN || st == PGRES_COPY_OUT || st == PGRES_COPY_BOTH) {
			PQclear(r);
			result = CRAFT_EIO;
			break;
		}
		bool keep_failed = keep && PQresultStatus(keep) == PGRES_FATAL_ERROR;
		if (keep_failed) {
			PQclear(r);
		} else {
			PQclear(keep);
			keep = r;
		}
	}
	if (result) {
		PQclear(keep);
		keep = NULL;
	}
	*res = keep;
	return result;
}

static unsigned client_deadline_ms(const craft_pg_pool *pool)
{
	return pool->statement_timeout_ms + CLIENT_GRACE_MS;
}

/* Run fixed SQL on a raw connection; true when it succeeded. */
static bool simple_command(PGconn *pg, unsigned timeout_ms, const char *sql)
{
	PGresult *res = NULL;
	if (!PQsendQuery(pg, sql) || await_result(pg, timeout_ms, &res))
		return false;
	bool ok = res && PQresultStatus(res) == PGRES_COMMAND_OK;
	PQclear(res);
	return ok;
}

/* Server notices go to the log, not to stderr. Values can appear in them only
 * through our own statements' messages, which never echo parameters. */
static void notice_log(void *arg, const PGresult *res)
{
	(void)arg;
	const char *severity = PQresultErrorField(res, PG_DIAG_SEVERITY_NONLOCALIZED);
	const char *sqlstate = PQresultErrorField(res, PG_DIAG_SQLSTATE);
	bool loud = severity && (strcmp(severity, "WARNING") == 0 ||
				 strcmp(severity, "FATAL") == 0 || strcmp(severity, "PANIC") == 0);
	char msg[MSG_MAX];
	copy_msg(msg, PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY));
	craft_log(loud ? CRAFT_LOG_WARN : CRAFT_LOG_DEBUG, NULL, "postgresql notice",
		  "{s:s*, s:s*, s:s}", "severity", severity, "sqlstate", sqlstate, "error", msg);
}

/* Is the idle connection still there? Reads what the server sent meanwhile
 * (a server going away sends a FATAL error and closes the socket). */
static bool conn_alive(struct craft_pg_conn *c)
{
	if (!c->pg || PQstatus(c->pg) != CONNECTION_OK)
		return false;
	/* A few rounds: the FATAL message and the end of the stream may come apart. */
	for (int round = 0; round < 4; round++) {
		struct pollfd p = {.fd = PQsocket(c->pg), .events = POLLIN};
		if (p.fd < 0)
			return false;
		if (poll(&p, 1, 0) <= 0)
			break;
		if (!PQconsumeInput(c->pg))
			return false;
		PGnotify *n;
		while ((n = PQnotifies(c->pg)))
			PQfreemem(n);
	}
	return PQstatus(c->pg) == CONNECTION_OK;
}

/* (Re)open the slot's connection: connect, route notices, set the timeout. */
static int conn_open(struct craft_pg_conn *c, const craft_span *parent)
{
	craft_pg_pool *pool = c->pool;
	conn_close(c);
	c->in_tx = false;
	craft_span *span = span_begin(pool, parent, NULL, "connect", NULL, NULL);
	int result = CRAFT_EUNAVAIL;
	char msg[MSG_MAX] = "";
	PGconn *pg =
	    PQconnectdbParams((const char *const *)pool->keys, (const char *const *)pool->vals, 0);
	if (!pg)
		craft_oom(0);
	if (PQstatus(pg) != CONNECTION_OK) {
		copy_msg(msg, PQerrorMessage(pg));
		goto out;
	}
	PQsetNoticeReceiver(pg, notice_log, NULL);
	char set[64];
	snprintf(set, sizeof(set), "SET statement_timeout = %u", pool->statement_timeout_ms);
	if (!simple_command(pg, client_deadline_ms(pool), set)) {
		copy_msg(msg, PQerrorMessage(pg));
		goto out;
	}
	c->pg = pg;
	craft_slots_set_open(&pool->slots, c->index, true);
	pg = NULL;
	if (atomic_exchange(&pool->down_logged, false))
		craft_log(CRAFT_LOG_INFO, parent, "postgresql reachable again", NULL);
	if (c->opened_before)
		atomic_fetch_add_explicit(&pool->reconnects, 1, memory_order_relaxed);
	c->opened_before = true;
	result = CRAFT_OK;
out:
	if (pg) {
		PQfinish(pg);
		/* one error line per outage; the repeats while it lasts go to debug */
		bool first = !atomic_exchange(&pool->down_logged, true);
		craft_log(first ? CRAFT_LOG_ERROR : CRAFT_LOG_DEBUG, span ? span : parent,
			  "postgresql connect failed", "{s:s}", "error", msg);
	}
	span_finish(span, result, NULL);
	return result;
}

/* Map a failed result to a CRAFT_E* code; *sqlstate is "" when there is none. */
static int classify(PGconn *pg, const PGresult *res, const char **sqlstate)
{
	const char *code = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	*sqlstate = code ? code : "";
	if (!pg || PQstatus(pg) != CONNECTION_OK)
		return CRAFT_EUNAVAIL;
	if (!code)
		return CRAFT_EIO;
	if (strcmp(code, "57014") == 0)
		return CRAFT_ETIMEOUT;
	if (strcmp(code, "23505") == 0)
		return CRAFT_ECONFLICT;
	if (strncmp(code, "22", 2) == 0 || strncmp(code, "23", 2) == 0)
		return CRAFT_EINVAL;
	if (strncmp(code, "08", 2) == 0 || strncmp(code, "57P", 3) == 0 ||
	    strcmp(code, "53300") == 0)
		return CRAFT_EUNAVAIL;
	return CRAFT_EIO;
}

static bool result_ok(const PGresult *res)
{
	ExecStatusType st = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
	return st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK || st == PGRES_EMPTY_QUERY;
}

/* Log a failed command: statement name, SQLSTATE, never parameter values.
 * Messages of data errors (class 22) can quote input, so they are left out. */
static void log_failure(const struct query *q, const craft_span *span, PGconn *pg,
			const PGresult *res, int result, const char *sqlstate)
{
	char msg[MSG_MAX] = "";
	const char *primary = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
	if (strncmp(sqlstate, "22", 2) == 0)
		primary = NULL;
	else if (!primary && pg)
		primary = PQerrorMessage(pg);
	else if (!primary && result == CRAFT_ETIMEOUT)
		primary = "client-side deadline passed";
	copy_msg(msg, primary);
	const char *constraint = res ? PQresultErrorField(res, PG_DIAG_CONSTRAINT_NAME) : NULL;
	bool data = result == CRAFT_ECONFLICT || result == CRAFT_EINVAL;
	craft_log(data ? CRAFT_LOG_INFO : CRAFT_LOG_ERROR, span, "postgresql command failed",
		  "{s:s, s:s, s:s, s:s*, s:s*}", "statement", q->label, "sqlstate", sqlstate,
		  "result", craft_strerror(result), "error", msg[0] ? msg : NULL, "constraint",
		  constraint);
}

/* Make sure the statement is prepared on this connection. */
static int prepare(struct craft_pg_conn *c, const struct stmt *st, PGresult **res)
{
	size_t i = (size_t)(st - c->pool->stmts);
	if (c->prepared[i])
		return CRAFT_OK;
	if (!PQsendPrepare(c->pg, st->server_name, st->sql, st->nparams, NULL))
		return CRAFT_OK; /* *res stays NULL: the caller sees a failure */
	int result = await_result(c->pg, client_deadline_ms(c->pool), res);
	if (result == CRAFT_OK && result_ok(*res)) {
		c->prepared[i] = true;
		PQclear(*res);
		*res = NULL;
	}
	return result;
}

/* Send the query once. *sent tells whether the server may have executed it.
 * Returns 0 with *res (possibly a failed result, or NULL when nothing was
 * received), or a client-side failure after which the link is closed. */
static int run_once(struct craft_pg_conn *c, const struct query *q, PGresult **res, bool *sent)
{
	*res = NULL;
	*sent = false;
	int result = CRAFT_OK;
	if (q->st) {
		result = prepare(c, q->st, res);
		if (result || *res || !c->prepared[q->st - c->pool->stmts])
			goto out;
		if (!PQsendQueryPrepared(c->pg, q->st->server_name, q->nparams, q->params, NULL,
					 NULL, 0))
			goto out;
	} else if (!PQsendQuery(c->pg, q->sql)) {
		goto out;
	}
	*sent = true;
	result = await_result(c->pg, client_deadline_ms(c->pool), res);
out:
	if (result)
		conn_close(c);
	else if (c->pg && PQstatus(c->pg) == CONNECTION_OK)
		c->in_tx = PQtransactionStatus(c->pg) != PQTRANS_IDLE;
	return result;
}

static bool link_dead(const struct craft_pg_conn *c)
{
	return !c->pg || PQstatus(c->pg) != CONNECTION_OK;
}

/* Run a query with the reconnect rule: a dead idle link is reopened first; a
 * link that dies during the query is reopened and the query run once more if
 * we are outside an explicit transaction and it did not run or is read-only.
 * Returns 0 with *res, or an error with *res (may be NULL) and *sqlstate. */
static int run(struct craft_pg_conn *c, const craft_span *span, const struct query *q,
	       PGresult **res, const char **sqlstate)
{
	*res = NULL;
	*sqlstate = "";
	if (!conn_alive(c)) {
		if (c->in_tx)
			return CRAFT_EUNAVAIL; /* the transaction is lost with its link */
		int rc = conn_open(c, span);
		if (rc)
			return rc;
	}
	bool sent;
	int result = run_once(c, q, res, &sent);
	if (result == CRAFT_OK && result_ok(*res))
		return CRAFT_OK;
	/* Not after a client-side timeout: the server is slow, not gone. */
	if (result == CRAFT_OK && link_dead(c) && !c->in_tx && (!sent || q->retry_safe)) {
		PQclear(*res);
		*res = NULL;
		craft_log(CRAFT_LOG_WARN, span, "postgresql connection lost, retrying once",
			  "{s:s}", "statement", q->label);
		result = conn_open(c, span);
		if (result)
			return result;
		result = run_once(c, q, res, &sent);
		if (result == CRAFT_OK && result_ok(*res))
			return CRAFT_OK;
	}
	if (result == CRAFT_OK)
		result = classify(c->pg, *res, sqlstate);
	return result;
}

/* ---- public API ---- */

static int take_slot(craft_pg_pool *pool, struct craft_pg_conn **out)
{
	unsigned i = 0;
	int rc = craft_slots_take(&pool->slots, &i);
	*out = rc == CRAFT_OK ? &pool->conns[i] : NULL;
	return rc;
}

static void give_slot(craft_pg_pool *pool, struct craft_pg_conn *c)
{
	craft_slots_give(&pool->slots, c->index);
}

int craft_pg_acquire(craft_pg_pool *pool, const craft_span *parent, craft_pg_conn **out)
{
	*out = NULL;
	struct craft_pg_conn *c;
	int result = take_slot(pool, &c);
	if (result) {
		craft_log(CRAFT_LOG_WARN, parent, "postgresql pool exhausted", "{s:i}",
			  "acquire_timeout_ms", (int)pool->acquire_timeout_ms);
		return result;
	}
	c->in_tx = false;
	if (!conn_alive(c)) {
		result = conn_open(c, parent);
		if (result) {
			give_slot(pool, c);
			count_error(pool);
			return result;
		}
	}
	*out = c;
	return CRAFT_OK;
}

/* Roll back what a returned connection left open; false when it must close. */
static bool reset_transaction(struct craft_pg_conn *c)
{
	PGTransactionStatusType ts = PQtransactionStatus(c->pg);
	if (ts == PQTRANS_IDLE)
		return true;
	if (ts != PQTRANS_INTRANS && ts != PQTRANS_INERROR)
		return false;
	craft_log(CRAFT_LOG_WARN, NULL, "postgresql connection released inside a transaction",
		  "{s:s}", "action", "rollback");
	return simple_command(c->pg, client_deadline_ms(c->pool), "ROLLBACK") &&
	       PQtransactionStatus(c->pg) == PQTRANS_IDLE;
}

void craft_pg_release(craft_pg_pool *pool, craft_pg_conn *conn)
{
	if (!conn)
		return;
	if (conn->pg && (PQstatus(conn->pg) != CONNECTION_OK || !reset_transaction(conn)))
		conn_close(conn);
	conn->in_tx = false;
	give_slot(pool, conn);
}

/* COMMIT of a transaction that had failed answers "ROLLBACK" without an error. */
static bool commit_rolled_back(const char *op, PGresult *res)
{
	return (strcmp(op, "COMMIT") == 0 || strcmp(op, "END") == 0) && res &&
	       strcmp(PQcmdStatus(res), "ROLLBACK") == 0;
}

/* Run q on conn inside a client span; the result goes to the arena. */
static int exec_query(struct craft_pg_conn *conn, craft_arena *arena, const craft_span *parent,
		      const struct query *q, const char *span_name, const char *op, PGresult **out)
{
	craft_pg_pool *pool = conn->pool;
	craft_span *span =
	    span_begin(pool, parent, conn->pg, span_name, op, q->st ? q->st->sql : q->sql);
	const craft_span *ctx = span ? span : parent;
	PGresult *res = NULL;
	const char *sqlstate = "";
	int result = run(conn, ctx, q, &res, &sqlstate);
	if (result == CRAFT_OK && commit_rolled_back(op, res)) {
		craft_log(CRAFT_LOG_ERROR, ctx,
			  "postgresql commit rolled back a failed transaction", "{s:s}",
			  "statement", q->label);
		result = CRAFT_EIO;
	} else if (result) {
		log_failure(q, ctx, conn->pg, res, result, sqlstate);
	}
	if (result)
		count_error(pool);
	span_finish(span, result, sqlstate);
	if (result == CRAFT_OK && out) {
		craft_arena_cleanup_add(arena, clear_result, res);
		*out = res;
	} else {
		PQclear(res);
	}
	return result;
}

int craft_pg_conn_exec(craft_pg_conn *conn, craft_arena *arena, const craft_span *parent,
		       const char *stmt_name, int nparams, const char *const *params,
		       PGresult **out)
{
	if (out)
		*out = NULL;
	craft_pg_pool *pool = conn->pool;
	size_t index;
	const struct stmt *st = stmt_find(pool, stmt_name, &index);
	if (!st) {
		craft_log(CRAFT_LOG_ERROR, parent, "postgresql statement unknown", "{s:s?}",
			  "statement", stmt_name);
		count_error(pool);
		return CRAFT_ENOTFOUND;
	}
	if (nparams != st->nparams || (nparams > 0 && !params) || (out && !arena)) {
		craft_log(CRAFT_LOG_ERROR, parent, "postgresql bad arguments", "{s:s, s:i}",
			  "statement", st->name, "nparams", nparams);
		count_error(pool);
		return CRAFT_EINVAL;
	}
	const struct query q = {.st = st,
				.params = params,
				.nparams = nparams,
				.retry_safe = st->retry_safe,
				.label = st->name};
	return exec_query(conn, arena, parent, &q, st->name, st->op, out);
}

int craft_pg_exec(craft_pg_pool *pool, craft_arena *arena, const craft_span *parent,
		  const char *stmt_name, int nparams, const char *const *params, PGresult **out)
{
	if (out)
		*out = NULL;
	size_t index;
	if (!stmt_find(pool, stmt_name, &index)) {
		craft_log(CRAFT_LOG_ERROR, parent, "postgresql statement unknown", "{s:s?}",
			  "statement", stmt_name);
		count_error(pool);
		return CRAFT_ENOTFOUND;
	}
	craft_pg_conn *conn;
	int result = craft_pg_acquire(pool, parent, &conn);
	if (result)
		return result;
	result = craft_pg_conn_exec(conn, arena, parent, stmt_name, nparams, params, out);
	craft_pg_release(pool, conn);
	return result;
}

int craft_pg_conn_exec_sql(craft_pg_conn *conn, const craft_span *parent, const char *sql)
{
	char op[OP_MAX];
	first_word(sql, op);
	const char *label = op[0] ? op : "sql";
	const struct query q = {.sql = sql, .retry_safe = op_retry_safe(op), .label = label};
	return exec_query(conn, NULL, parent, &q, label, op, NULL);
}

int craft_pg_ping(craft_pg_pool *pool, const craft_span *parent)
{
	craft_pg_conn *conn;
	int result = craft_pg_acquire(pool, parent, &conn);
	if (result)
		return result;
	const struct query q = {.sql = "SELECT 1", .retry_safe = true, .label = "ping"};
	result = exec_query(conn, NULL, parent, &q, "ping", "SELECT", NULL);
	craft_pg_release(pool, conn);
	return result;
}

void craft_pg_pool_stats(craft_pg_pool *pool, struct craft_pg_stats *out)
{
	struct craft_slots_stats st;
	craft_slots_stats(&pool->slots, &st);
	out->size = st.size;
	out->in_use = st.in_use;
	out->waiting = st.waiting;
	out->acquired = st.acquired;
	out->acquire_timeouts = st.acquire_timeouts;
	out->reconnects = atomic_load_explicit(&pool->reconnects, memory_order_relaxed);
	out->errors = atomic_load_explicit(&pool->errors, memory_order_relaxed);
}

/* ---- conninfo ---- */

struct writer {
	char *out;
	size_t cap, len;
	bool over;
};

static void put(struct writer *w, char ch)
{
	if (w->len + 1 >= w->cap) {
		w->over = true;
		return;
	}
	w->out[w->len++] = ch;
}

static void put_pair(struct writer *w, const char *key, const char *val)
{
	if (!val || !*val)
		return;
	if (w->len > 0)
		put(w, ' ');
	for (; *key; key++)
		put(w, *key);
	put(w, '=');
	put(w, '\'');
	for (; *val; val++) {
		if (*val == '\'' || *val == '\\')
			put(w, '\\');
		put(w, *val);
	}
	put(w, '\'');
}

int craft_pg_conninfo_build(char *out, size_t out_len, const char *host, const char *port,
			    const char *user, const char *password, const char *dbname)
{
	if (!out || out_len == 0)
		return CRAFT_EINVAL;
	struct writer w = {.out = out, .cap = out_len};
	put_pair(&w, "host", host);
	put_pair(&w, "port", port);
	put_pair(&w, "user", user);
	put_pair(&w, "password", password);
	put_pair(&w, "dbname", dbname);
	if (w.over) {
		out[0] = '\0';
		return CRAFT_ETOOBIG;
	}
	out[w.len] = '\0';
	return CRAFT_OK;
}
