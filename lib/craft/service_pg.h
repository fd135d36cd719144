/* service_pg.h - the PostgreSQL opener of a service (see service.h): its
 * settings, the pool, the pool's figures for /metrics, the readiness check
 * (database reachable and migrated) and the reply for a failed call. Only a
 * service that includes it links libpq (CMake target craft-pg). */
#ifndef CRAFT_SERVICE_PG_H
#define CRAFT_SERVICE_PG_H

#include <stddef.h>

#include "http.h"
#include "pg.h"
#include "service.h"

/* PostgreSQL settings: DATABASE_URL (a libpq URI) when set, else the
 * POSTGRES_* variables; pool size and timeouts. */
struct craft_db_config {
	const char *database_url;   /* DATABASE_URL */
	const char *host;           /* POSTGRES_HOST */
	long port;                  /* POSTGRES_PORT */
	const char *user;           /* POSTGRES_USER */
	const char *password;       /* POSTGRES_PASSWORD (secret) */
	const char *dbname;         /* POSTGRES_DB */
	long pool_size;             /* PG_POOL_SIZE, 0 = number of cores */
	long acquire_timeout_ms;    /* PG_ACQUIRE_TIMEOUT_MS */
	long statement_timeout_ms;  /* PG_STATEMENT_TIMEOUT_MS */
	long connect_timeout_s;     /* PG_CONNECT_TIMEOUT_S */
	const char *schema_version; /* the migration the service needs ("004") */
	craft_pg_pool *pool;        /* the pool built from these settings */
};

/* Read the PostgreSQL settings and create the pool with `stmts` (it connects
 * lazily, so the database may still be down). Outside development a default
 * POSTGRES_PASSWORD is refused unless DATABASE_URL is set. Registers the
 * pool's figures for /metrics and the "database" check for /health, which is
 * up only when the database answers and its schema_migrations table records
 * `schema_version` (the newest migration the service's statements need,
 * "004"; see db/migrations and craft-migrate), so a replica is not ready
 * before the migration it needs has run. Returns 0, or CRAFT_EINVAL with the
 * reason in err. */
int craft_service_open_db(struct craft_service *svc, struct craft_db_config *cfg,
			  const struct craft_pg_stmt *stmts, size_t nstmts,
			  const char *schema_version, craft_pg_pool **out, char *err,
			  size_t err_len);
void craft_service_close_db(struct craft_db_config *cfg, craft_pg_pool *pool);

/* Reply for a failed PostgreSQL call: 503 with Retry-After when the
 * database is unreachable or timed out, 500 otherwise. */
void craft_service_reply_db_error(craft_req *req, int result);

#endif
