#include "store.h"

#include "craft/common.h"

#include <stdio.h>
#include <stdlib.h>

#define COLS "id, name, description, image_url, votes, version"

/* A vote in one statement: the insert decides (the primary key makes a
 * second vote a no-op), and only an inserted row bumps the count, with
 * votes = votes + 1 under the row lock, never read-then-write. */
#define VOTE_SQL(change_votes, insert_or_delete)                                                   \
	"WITH changed AS (" insert_or_delete "), "                                                 \
	"upd AS (UPDATE products SET votes = votes " change_votes ", "                             \
	"version = nextval('product_version_seq'), updated_at = now() "                            \
	"WHERE id IN (SELECT product_id FROM changed) RETURNING " COLS ") "                        \
	"SELECT " COLS ", true FROM upd "                                                          \
	"UNION ALL SELECT " COLS ", false FROM products "                                          \
	"WHERE id = $1 AND NOT EXISTS (SELECT 1 FROM changed)"

const struct craft_pg_stmt product_store_stmts[] = {
    {.name = "product_list", .sql = "SELECT " COLS " FROM products ORDER BY id", .nparams = 0},
    {.name = "product_get", .sql = "SELECT " COLS " FROM products WHERE id = $1", .nparams = 1},
    {.name = "product_vote",
     .sql = VOTE_SQL("+ 1", "INSERT INTO votes (product_id, username) "
			    "SELECT id, $2 FROM products WHERE id = $1 "
			    "ON CONFLICT DO NOTHING RETURNING product_id"),
     .nparams = 2},
    {.name = "product_unvote",
     .sql = VOTE_SQL("- 1", "DELETE FROM votes WHERE product_id = $1 AND username = $2 "
			    "RETURNING product_id"),
     .nparams = 2},
    {.name = "product_has_voted",
     .sql = "SELECT EXISTS (SELECT 1 FROM votes WHERE product_id = $1 AND username = $2)",
     .nparams = 2},
    {.name = "product_votes_of",
     .sql = "SELECT product_id FROM votes WHERE username = $1 ORDER BY product_id",
     .nparams = 1},
    {.name = "product_create",
     .sql = "INSERT INTO products (name, description, image_url) VALUES ($1, $2, $3) "
	    "RETURNING " COLS,
     .nparams = 3},
    {.name = "product_update",
     .sql = "UPDATE products SET name = COALESCE($2, name), "
	    "description = COALESCE($3, description), image_url = COALESCE($4, image_url), "
	    "version = nextval('product_version_seq'), updated_at = now() "
	    "WHERE id = $1 RETURNING " COLS,
     .nparams = 4},
    {.name = "product_delete",
     .sql = "DELETE FROM products WHERE id = $1 RETURNING nextval('product_version_seq')",
     .nparams = 1},
    {.name = "repair_note",
     .sql = "INSERT INTO cache_repair (product_id, version) VALUES ($1, $2) "
	    "ON CONFLICT DO NOTHING",
     .nparams = 2},
    {.name = "repair_pending",
     .sql = "SELECT product_id, max(version) FROM cache_repair GROUP BY product_id "
	    "ORDER BY product_id LIMIT 1000",
     .nparams = 0},
    {.name = "repair_done",
     .sql = "DELETE FROM cache_repair WHERE product_id = $1 AND version <= $2",
     .nparams = 2},
};
const size_t product_store_nstmts = CRAFT_ARRAY_LEN(product_store_stmts);

static void row(const PGresult *res, int r, struct product *p)
{
	p->id = strtol(PQgetvalue(res, r, 0), NULL, 10);
	p->name = PQgetvalue(res, r, 1);
	p->description = PQgetvalue(res, r, 2);
	p->image_url = PQgetvalue(res, r, 3);
	p->votes = strtol(PQgetvalue(res, r, 4), NULL, 10);
	p->version = strtoll(PQgetvalue(res, r, 5), NULL, 10);
}

static const char *num(craft_arena *a, long long v)
{
	return craft_arena_sprintf(a, "%lld", v);
}

int store_list(craft_pg_pool *pg, craft_arena *a, const craft_span *s, struct product **out,
	       size_t *count)
{
	PGresult *res = NULL;
	int rc = craft_pg_exec(pg, a, s, "product_list", 0, NULL, &res);
	if (rc)
		return rc;
	int n = PQntuples(res);
	struct product *items = craft_arena_calloc(a, (size_t)n, sizeof(*items));
	for (int i = 0; i < n; i++)
		row(res, i, &items[i]);
	*out = items;
	*count = (size_t)n;
	return CRAFT_OK;
}

/* Run a statement expected to return at most one product row. */
static int one(craft_pg_pool *pg, craft_arena *a, const craft_span *s, const char *stmt,
	       int nparams, const char *const *params, struct product *out, bool *flag)
{
	PGresult *res = NULL;
	int rc = craft_pg_exec(pg, a, s, stmt, nparams, params, &res);
	if (rc)
		return rc;
	if (PQntuples(res) < 1)
		return CRAFT_ENOTFOUND;
	row(res, 0, out);
	if (flag)
		*flag = PQgetvalue(res, 0, 6)[0] == 't';
	return CRAFT_OK;
}

int store_get(craft_pg_pool *pg, craft_arena *a, const craft_span *s, long id, struct product *out)
{
	const char *params[] = {num(a, id)};
	return one(pg, a, s, "product_get", 1, params, out, NULL);
}

/* When nothing changed, the statement's row comes from a snapshot taken
 * before it waited on a concurrent vote by the same user; read the row again
 * so the count returned is never older than one already acknowledged. */
static int vote_stmt(craft_pg_pool *pg, craft_arena *a, const craft_span *s, const char *stmt,
		     long id, const char *user, struct vote_result *out)
{
	const char *params[] = {num(a, id), user};
	int rc = one(pg, a, s, stmt, 2, params, &out->product, &out->changed);
	if (rc == CRAFT_OK && !out->changed)
		rc = store_get(pg, a, s, id, &out->product);
	return rc;
}

int store_vote(craft_pg_pool *pg, craft_arena *a, const craft_span *s, long id, const char *user,
	       struct vote_result *out)
{
	return vote_stmt(pg, a, s, "product_vote", id, user, out);
}

int store_unvote(craft_pg_pool *pg, craft_arena *a, const craft_span *s, long id, const char *user,
		 struct vote_result *out)
{
	return vote_stmt(pg, a, s, "product_unvote", id, user, out);
}

int store_has_voted(craft_pg_pool *pg, craft_arena *a, const craft_span *s, long id,
		    const char *user, bool *voted)
{
	const char *params[] = {num(a, id), user};
	PGresult *res = NULL;
	int rc = craft_pg_exec(pg, a, s, "product_has_voted", 2, params, &res);
	if (rc)
		return rc;
	*voted = PQgetvalue(res, 0, 0)[0] == 't';
	return CRAFT_OK;
}

int store_votes_of(craft_pg_pool *pg, craft_arena *a, const craft_span *s, const char *user,
		   long **ids, size_t *count)
{
	const char *params[] = {user};
	PGresult *res = NULL;
	int rc = craft_pg_exec(pg, a, s, "product_votes_of", 1, params, &res);
	if (rc)
		return rc;
	int n = PQntuples(res);
	long *out = craft_arena_calloc(a, (size_t)n, sizeof(*out));
	for (int i = 0; i < n; i++)
		out[i] = strtol(PQgetvalue(res, i, 0), NULL, 10);
	*ids = out;
	*count = (size_t)n;
	return CRAFT_OK;
}

int store_create(craft_pg_pool *pg, craft_arena *a, const craft_span *s, const char *name,
		 const char *description, const char *image_url, struct product *out)
{
	const char *params[] = {name, description, image_url};
	return one(pg, a, s, "product_create", 3, params, out, NULL);
}

int store_update(craft_pg_pool *pg, craft_arena *a, const craft_span *s, long id, const char *name,
		 const char *description, const char *image_url, struct product *out)
{
	const char *params[] = {num(a, id), name, description, image_url};
	return one(pg, a, s, "product_update", 4, params, out, NULL);
}

int store_delete(craft_pg_pool *pg, craft_arena *a, const craft_span *s, long id,
		 long long *version)
{
	const char *params[] = {num(a, id)};
	PGresult *res = NULL;
	int rc = craft_pg_exec(pg, a, s, "product_delete", 1, params, &res);
	if (rc)
		return rc;
	if (PQntuples(res) < 1)
		return CRAFT_ENOTFOUND;
	*version = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
	return CRAFT_OK;
}

int store_repair_note(craft_pg_pool *pg, craft_arena *a, const craft_span *s, long id,
		      long long version)
{
	const char *params[] = {num(a, id), num(a, version)};
	return craft_pg_exec(pg, a, s, "repair_note", 2, params, NULL);
}

int store_repair_pending(craft_pg_pool *pg, craft_arena *a, const craft_span *s,
			 struct repair **out, size_t *count)
{
	PGresult *res = NULL;
	int rc = craft_pg_exec(pg, a, s, "repair_pending", 0, NULL, &res);
	if (rc)
		return rc;
	int n = PQntuples(res);
	struct repair *r = craft_arena_calloc(a, (size_t)n, sizeof(*r));
	for (int i = 0; i < n; i++) {
		r[i].id = strtol(PQgetvalue(res, i, 0), NULL, 10);
		r[i].version = strtoll(PQgetvalue(res, i, 1), NULL, 10);
	}
	*out = r;
	*count = (size_t)n;
	return CRAFT_OK;
}

int store_repair_done(craft_pg_pool *pg, craft_arena *a, const craft_span *s, long id,
		      long long version)
{
	const char *params[] = {num(a, id), num(a, version)};
	return craft_pg_exec(pg, a, s, "repair_done", 2, params, NULL);
}
