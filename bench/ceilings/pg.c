/* pg.c - ceiling-pg: one blocking libpq prepared query per request, answering the
 * row as a small JSON object. Each pool thread keeps its own connection (a
 * thread-specific slot, finished when the thread ends) with the statement prepared
 * once; a broken connection is dropped and reopened by the next request.
 *
 *   ceiling-pg [PORT [CONNINFO [ID]]]
 *   (or $PORT, $DATABASE_URL, $CEILING_PRODUCT_ID; the id defaults to 1)
 */
#include "ceiling.h"

#include <jansson.h>
#include <libpq-fe.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STATEMENT "ceiling_product"
#define QUERY     "SELECT id, name, description, image_url, votes FROM products WHERE id = $1"

struct pg_ceiling {
	const char *conninfo;
	const char *id;     /* the query's parameter, as text */
	pthread_key_t slot; /* this thread's PGconn */
};

static void finish_conn(void *conn)
{
	PQfinish(conn);
}

static PGconn *open_conn(const char *conninfo)
{
	PGconn *conn = PQconnectdb(conninfo);
	PGresult *res = NULL;
	if (PQstatus(conn) != CONNECTION_OK) {
		fprintf(stderr, "ceiling-pg: cannot connect: %s", PQerrorMessage(conn));
		goto fail;
	}
	res = PQprepare(conn, STATEMENT, QUERY, 1, NULL);
	if (PQresultStatus(res) != PGRES_COMMAND_OK) {
		fprintf(stderr, "ceiling-pg: cannot prepare: %s", PQerrorMessage(conn));
		goto fail;
	}
	PQclear(res);
	return conn;
fail:
	PQclear(res);
	PQfinish(conn);
	return NULL;
}

/* This thread's connection, opened when missing or broken; NULL when PostgreSQL
 * is unreachable. */
static PGconn *thread_conn(struct pg_ceiling *pc)
{
	PGconn *conn = pthread_getspecific(pc->slot);
	if (conn && PQstatus(conn) == CONNECTION_OK)
		return conn;
	PQfinish(conn);
	conn = open_conn(pc->conninfo);
	pthread_setspecific(pc->slot, conn);
	return conn;
}

/* The first row of `res` as compact JSON (caller frees), NULL when it cannot be built. */
static char *row_json(const PGresult *res)
{
	json_int_t id = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
	json_int_t votes = strtoll(PQgetvalue(res, 0, 4), NULL, 10);
	json_t *row = json_pack("{s:I, s:s, s:s, s:s, s:I}", "id", id, "name",
				PQgetvalue(res, 0, 1), "description", PQgetvalue(res, 0, 2),
				"image_url", PQgetvalue(res, 0, 3), "votes", votes);
	char *text = row ? json_dumps(row, JSON_COMPACT) : NULL;
	json_decref(row);
	return text;
}

/* The reply for a finished query: the row, or why there is none. */
static enum MHD_Result reply_result(struct MHD_Connection *conn, const PGresult *res)
{
	static const char DOWN[] = "{\"error\":\"query failed\"}";
	static const char MISSING[] = "{\"error\":\"no such product\"}";
	static const char BAD[] = "{\"error\":\"cannot render the row\"}";
	if (PQresultStatus(res) != PGRES_TUPLES_OK)
		return ceiling_reply(conn, MHD_HTTP_BAD_GATEWAY, DOWN, sizeof(DOWN) - 1);
	if (PQntuples(res) != 1 || PQnfields(res) != 5)
		return ceiling_reply(conn, MHD_HTTP_NOT_FOUND, MISSING, sizeof(MISSING) - 1);
	char *body = row_json(res);
	if (!body)
		return ceiling_reply(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, BAD, sizeof(BAD) - 1);
	enum MHD_Result result = ceiling_reply(conn, MHD_HTTP_OK, body, strlen(body));
	free(body);
	return result;
}

static enum MHD_Result pg_query(void *ctx, struct MHD_Connection *conn)
{
	static const char DOWN[] = "{\"error\":\"database unavailable\"}";
	struct pg_ceiling *pc = ctx;
	PGconn *db = thread_conn(pc);
	if (!db)
		return ceiling_reply(conn, MHD_HTTP_BAD_GATEWAY, DOWN, sizeof(DOWN) - 1);
	const char *params[1] = {pc->id};
	PGresult *res = PQexecPrepared(db, STATEMENT, 1, params, NULL, NULL, 0);
	enum MHD_Result result = reply_result(conn, res);
	PQclear(res);
	return result;
}

int main(int argc, char **argv)
{
	struct pg_ceiling pc = {
	    .conninfo = ceiling_arg(argc, argv, 2, "DATABASE_URL", ""),
	    .id = ceiling_arg(argc, argv, 3, "CEILING_PRODUCT_ID", "1"),
	};
	unsigned port = ceiling_parse_port(ceiling_arg(argc, argv, 1, "PORT", NULL), "PORT");
	if (pthread_key_create(&pc.slot, finish_conn) != 0) {
		fprintf(stderr, "ceiling-pg: pthread_key_create failed\n");
		return EXIT_FAILURE;
	}
	int status = ceiling_serve("ceiling-pg", port, pg_query, &pc);
	pthread_key_delete(pc.slot);
	return status == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
