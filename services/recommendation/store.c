#include "store.h"

#include "craft/common.h"

#include <stdio.h>
#include <stdlib.h>

#define COLUMNS "id, name, description, image_url, votes, version"

const struct craft_pg_stmt reco_store_stmts[] = {
    {.name = "reco_top",
     .sql = "SELECT " COLUMNS " FROM products ORDER BY votes DESC, id ASC LIMIT $1",
     .nparams = 1},
    /* Record the day's pick once ($1 day, $2 position before modulo), then read it. */
    {.name = "reco_daily",
     .sql = "WITH pick AS ("
	    " INSERT INTO origami_of_the_day (day, product_id)"
	    " SELECT $1::date, id FROM products ORDER BY id"
	    " OFFSET (SELECT $2::bigint % GREATEST(count(*), 1) FROM products) LIMIT 1"
	    " ON CONFLICT (day) DO NOTHING RETURNING product_id)"
	    " SELECT " COLUMNS " FROM products WHERE id = COALESCE("
	    " (SELECT product_id FROM pick),"
	    " (SELECT product_id FROM origami_of_the_day WHERE day = $1::date))",
     .nparams = 2},
    {.name = "reco_get", .sql = "SELECT " COLUMNS " FROM products WHERE id = $1", .nparams = 1},
};
const size_t reco_store_nstmts = CRAFT_ARRAY_LEN(reco_store_stmts);

static void row_to_product(const PGresult *res, int row, struct reco_product *p)
{
	p->id = strtol(PQgetvalue(res, row, 0), NULL, 10);
	p->name = PQgetvalue(res, row, 1);
	p->description = PQgetvalue(res, row, 2);
	p->image_url = PQgetvalue(res, row, 3);
	p->votes = strtol(PQgetvalue(res, row, 4), NULL, 10);
	p->version = strtoll(PQgetvalue(res, row, 5), NULL, 10);
}

int reco_store_top(craft_pg_pool *pg, craft_arena *arena, const craft_span *span, long limit,
		   struct reco_product **out, size_t *count)
{
	char lim[24];
	snprintf(lim, sizeof(lim), "%ld", limit);
	const char *params[] = {lim};
	PGresult *res = NULL;
	int rc = craft_pg_exec(pg, arena, span, "reco_top", 1, params, &res);
	if (rc)
		return rc;
	int n = PQntuples(res);
	struct reco_product *items = craft_arena_calloc(arena, (size_t)n, sizeof(*items));
	for (int i = 0; i < n; i++)
		row_to_product(res, i, &items[i]);
	*out = items;
	*count = (size_t)n;
	return CRAFT_OK;
}

static int one_row(craft_pg_pool *pg, craft_arena *arena, const craft_span *span, const char *stmt,
		   int nparams, const char *const *params, struct reco_product *out)
{
	PGresult *res = NULL;
	int rc = craft_pg_exec(pg, arena, span, stmt, nparams, params, &res);
	if (rc)
		return rc;
	if (PQntuples(res) < 1)
		return CRAFT_ENOTFOUND;
	row_to_product(res, 0, out);
	return CRAFT_OK;
}

int reco_store_daily(craft_pg_pool *pg, craft_arena *arena, const craft_span *span, const char *day,
		     long index, struct reco_product *out)
{
	char pos[24];
	snprintf(pos, sizeof(pos), "%ld", index);
	const char *params[] = {day, pos};
	return one_row(pg, arena, span, "reco_daily", 2, params, out);
}

int reco_store_get(craft_pg_pool *pg, craft_arena *arena, const craft_span *span, long id,
		   struct reco_product *out)
{
	char text[24];
	snprintf(text, sizeof(text), "%ld", id);
	const char *params[] = {text};
	return one_row(pg, arena, span, "reco_get", 1, params, out);
}
