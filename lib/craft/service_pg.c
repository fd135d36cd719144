/* service_pg.c - the PostgreSQL opener: settings, pool, figures, readiness. Declared in
 * service_pg.h. */
#include "service_pg.h"

#include "common.h"
#include "config.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define DB_FIELD(member) offsetof(struct craft_db_config, member)

static const struct craft_config_field db_url_field[] = {
    {.name = "DATABASE_URL",
     .type = CRAFT_CONFIG_STR,
     .default_value = "",
     .max = 4096,
     .secret = true,
     .offset = DB_FIELD(database_url),
     .help = "libpq connection URI; overrides the POSTGRES_* settings"},
};

static const struct craft_config_field db_fields[] = {
    {.name = "POSTGRES_HOST",
     .type = CRAFT_CONFIG_STR,
     .default_value = "localhost",
     .min = 1,
     .max = 255,
     .offset = DB_FIELD(host),
     .help = "PostgreSQL host"},
    {.name = "POSTGRES_PORT",
     .type = CRAFT_CONFIG_INT,
     .default_value = "5432",
     .min = 1,
     .max = 65535,
     .offset = DB_FIELD(port),
     .help = "PostgreSQL port"},
    {.name = "POSTGRES_USER",
     .type = CRAFT_CONFIG_STR,
     .default_value = "postgres",
     .min = 1,
     .max = 128,
     .offset = DB_FIELD(user),
     .help = "PostgreSQL user"},
    {.name = "POSTGRES_PASSWORD",
     .type = CRAFT_CONFIG_STR,
     .default_value = "postgres",
     .max = 1024,
     .secret = true,
     .offset = DB_FIELD(password),
     .help = "PostgreSQL password"},
    {.name = "POSTGRES_DB",
     .type = CRAFT_CONFIG_STR,
     .default_value = "craftista",
     .min = 1,
     .max = 128,
     .offset = DB_FIELD(dbname),
     .help = "PostgreSQL database"},
    {.name = "PG_POOL_SIZE",
     .type = CRAFT_CONFIG_INT,
     .default_value = "0",
     .min = 0,
     .max = 256,
     .offset = DB_FIELD(pool_size),
     .help = "PostgreSQL connections, 0 = one per core"},
    {.name = "PG_ACQUIRE_TIMEOUT_MS",
     .type = CRAFT_CONFIG_INT,
     .default_value = "2000",
     .min = 1,
     .max = 60000,
     .offset = DB_FIELD(acquire_timeout_ms),
     .help = "longest wait for a free PostgreSQL connection"},
    {.name = "PG_STATEMENT_TIMEOUT_MS",
     .type = CRAFT_CONFIG_INT,
     .default_value = "5000",
     .min = 1,
     .max = 600000,
     .offset = DB_FIELD(statement_timeout_ms),
     .help = "server-side statement timeout"},
    {.name = "PG_CONNECT_TIMEOUT_S",
     .type = CRAFT_CONFIG_INT,
     .default_value = "3",
     .min = 1,
     .max = 60,
     .offset = DB_FIELD(connect_timeout_s),
     .help = "PostgreSQL connect timeout"},
};

static const struct craft_metric_desc pg_metrics[] = {
    {"craft_pg_pool_size", "PostgreSQL pool connections", CRAFT_METRIC_GAUGE},
    {"craft_pg_pool_in_use", "PostgreSQL connections in use", CRAFT_METRIC_GAUGE},
    {"craft_pg_pool_waiting", "Threads waiting for a PostgreSQL connection", CRAFT_METRIC_GAUGE},
    {"craft_pg_acquire_timeouts_total", "PostgreSQL acquire timeouts", CRAFT_METRIC_COUNTER},
    {"craft_pg_reconnects_total", "PostgreSQL reconnects", CRAFT_METRIC_COUNTER},
    {"craft_pg_errors_total", "PostgreSQL errors", CRAFT_METRIC_COUNTER},
};

static void collect_pg(void *pool, double *v)
{
	struct craft_pg_stats st;
	craft_pg_pool_stats(pool, &st);
	v[0] = st.size;
	v[1] = st.in_use;
	v[2] = st.waiting;
	v[3] = (double)st.acquire_timeouts;
	v[4] = (double)st.reconnects;
	v[5] = (double)st.errors;
}

/* The statement of the readiness check, added to the service's own. */
#define SCHEMA_STMT "craft_schema_version"

static const struct craft_pg_stmt schema_stmt = {
    .name = SCHEMA_STMT, .sql = "SELECT max(version) FROM schema_migrations", .nparams = 0};

/* Readiness: the database answers and records the migration the service
 * needs (versions are zero-padded, so they compare as text). */
static bool database_ready(void *ctx, craft_req *req, char *reason, size_t reason_len)
{
	const struct craft_db_config *cfg = ctx;
	PGresult *res = NULL;
	int rc = craft_pg_exec(cfg->pool, req->arena, req->span, SCHEMA_STMT, 0, NULL, &res);
	if (rc == CRAFT_EUNAVAIL || rc == CRAFT_ETIMEOUT) {
		snprintf(reason, reason_len, "database unreachable");
		return false;
	}
	if (rc != CRAFT_OK || PQntuples(res) != 1 || PQgetisnull(res, 0, 0)) {
		snprintf(reason, reason_len,
			 "no migration applied (schema_migrations unreadable "
			 "or empty); run craft-migrate");
		return false;
	}
	const char *have = PQgetvalue(res, 0, 0);
	if (strcmp(have, cfg->schema_version) < 0) {
		snprintf(reason, reason_len,
			 "schema at migration %.16s, needs %s; run craft-migrate", have,
			 cfg->schema_version);
		return false;
	}
	return true;
}

/* The service's statements and the readiness one, in one array to free. */
static struct craft_pg_stmt *with_schema_stmt(const struct craft_pg_stmt *stmts, size_t n)
{
	struct craft_pg_stmt *all = craft_xcalloc(n + 1, sizeof(*all));
	if (n)
		memcpy(all, stmts, n * sizeof(*all));
	all[n] = schema_stmt;
	return all;
}

/* Create the pool from the loaded settings. */
static int new_pool(struct craft_service *svc, const struct craft_db_config *cfg,
		    const struct craft_pg_stmt *stmts, size_t nstmts, craft_pg_pool **out,
		    char *err, size_t err_len)
{
	char conninfo[2048];
	const char *ci = cfg->database_url;
	if (!ci[0]) {
		char port[16];
		snprintf(port, sizeof(port), "%ld", cfg->port);
		if (craft_pg_conninfo_build(conninfo, sizeof(conninfo), cfg->host, port, cfg->user,
					    cfg->password, cfg->dbname) != CRAFT_OK) {
			snprintf(err, err_len, "PostgreSQL settings too long");
			return CRAFT_EINVAL;
		}
		ci = conninfo;
	}
	long cores = sysconf(_SC_NPROCESSORS_ONLN);
	struct craft_pg_options opts = {
	    .conninfo = ci,
	    .size = (unsigned)(cfg->pool_size ? cfg->pool_size : (cores > 0 ? cores : 2)),
	    .acquire_timeout_ms = (unsigned)cfg->acquire_timeout_ms,
	    .connect_timeout_s = (unsigned)cfg->connect_timeout_s,
	    .statement_timeout_ms = (unsigned)cfg->statement_timeout_ms,
	    .tracer = svc->tracer,
	};
	struct craft_pg_stmt *all = with_schema_stmt(stmts, nstmts);
	int rc = craft_pg_pool_new(&opts, all, nstmts + 1, out);
	free(all);
	if (rc)
		snprintf(err, err_len,
			 "cannot set up the PostgreSQL pool (check DATABASE_URL / POSTGRES_*)");
	return rc;
}

int craft_service_open_db(struct craft_service *svc, struct craft_db_config *cfg,
			  const struct craft_pg_stmt *stmts, size_t nstmts,
			  const char *schema_version, craft_pg_pool **out, char *err,
			  size_t err_len)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->schema_version = schema_version;
	int rc = craft_config_load(db_url_field, 1, cfg, NULL, NULL, true, err, err_len);
	if (rc)
		return rc;
	bool lenient = svc->config.development || cfg->database_url[0] != '\0';
	rc = craft_config_load(db_fields, CRAFT_ARRAY_LEN(db_fields), cfg, NULL, NULL, lenient, err,
			       err_len);
	if (rc || (rc = new_pool(svc, cfg, stmts, nstmts, out, err, err_len)))
		return rc;
	cfg->pool = *out;
	craft_metrics_add_collector(svc->metrics, pg_metrics, CRAFT_ARRAY_LEN(pg_metrics),
				    collect_pg, *out);
	craft_service_add_check(svc, "database", database_ready, cfg);
	return CRAFT_OK;
}

void craft_service_close_db(struct craft_db_config *cfg, craft_pg_pool *pool)
{
	craft_pg_pool_free(pool);
	craft_config_free(db_url_field, 1, cfg);
	craft_config_free(db_fields, CRAFT_ARRAY_LEN(db_fields), cfg);
}

void craft_service_reply_db_error(craft_req *req, int result)
{
	if (result == CRAFT_EUNAVAIL || result == CRAFT_ETIMEOUT) {
		craft_reply_header(req, "Retry-After", "1");
		craft_reply_error(req, 503, "Database unavailable");
		return;
	}
	craft_reply_error(req, 500, "Database error");
}
