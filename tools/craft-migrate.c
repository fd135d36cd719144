/* craft-migrate - apply db/migrations/NNN_name.sql files in order, once each.
 *
 *   craft-migrate [DIR]        (default db/migrations)
 *
 * Connection: DATABASE_URL, else POSTGRES_HOST/PORT/USER/PASSWORD/DB.
 * Waits up to MIGRATE_WAIT_S seconds (default 30) for the server. Runners
 * serialise on a session advisory lock; each file is applied in its own
 * transaction and recorded in schema_migrations with its SHA-256. A recorded
 * file whose content changed is an error. Exit 0 on success, 1 on failure,
 * 2 on bad usage.
 */
#include "craft/clock.h"
#include "craft/common.h"
#include "craft/file.h"
#include "craft/pg.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <libpq-fe.h>
#include <openssl/evp.h>

#define DEFAULT_DIR    "db/migrations"
#define DEFAULT_WAIT_S 30L
#define MAX_WAIT_S     3600L
#define RETRY_MS       500L
#define MAX_FILE       (1024L * 1024L) /* bytes per migration file */
#define MAX_MIGRATIONS 1000            /* three digits */
#define CONNINFO_MAX   2048
#define VERSION_LEN    3
#define LOCK_KEY       "7165897049767766375" /* "craftmig" as a 64-bit integer */
#define SHA256_HEX     65

struct migration {
	char *file; /* name inside the directory */
	char version[VERSION_LEN + 1];
};

struct plan {
	struct migration items[MAX_MIGRATIONS];
	size_t n;
};

static const char *env_or(const char *name, const char *fallback)
{
	const char *v = getenv(name);
	return v && *v ? v : fallback;
}

/* ^[0-9]{3}_[a-z0-9_]+\.sql$ */
static bool migration_name(const char *name)
{
	size_t len = strlen(name);
	if (len < VERSION_LEN + 1 + 1 + 4 || strcmp(name + len - 4, ".sql") != 0)
		return false;
	for (size_t i = 0; i < VERSION_LEN; i++)
		if (name[i] < '0' || name[i] > '9')
			return false;
	if (name[VERSION_LEN] != '_')
		return false;
	for (size_t i = VERSION_LEN + 1; i < len - 4; i++) {
		char c = name[i];
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'))
			return false;
	}
	return true;
}

static int by_file(const void *a, const void *b)
{
	const struct migration *x = a, *y = b;
	return strcmp(x->file, y->file);
}

static void plan_free(struct plan *plan)
{
	for (size_t i = 0; i < plan->n; i++)
		free(plan->items[i].file);
	plan->n = 0;
}

/* List the migration files of dir, sorted; CRAFT_OK or CRAFT_EIO (reported). */
static int plan_load(const char *dir, struct plan *plan)
{
	DIR *d = opendir(dir);
	if (!d) {
		fprintf(stderr, "craft-migrate: cannot open %s: %s\n", dir, strerror(errno));
		return CRAFT_EIO;
	}
	int result = CRAFT_OK;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		if (!migration_name(e->d_name)) {
			fprintf(stderr,
				"craft-migrate: warning: ignoring %s/%s (not NNN_name.sql)\n", dir,
				e->d_name);
			continue;
		}
		if (plan->n == MAX_MIGRATIONS) {
			fprintf(stderr, "craft-migrate: more than %d migrations in %s\n",
				MAX_MIGRATIONS, dir);
			result = CRAFT_EIO;
			break;
		}
		struct migration *m = &plan->items[plan->n++];
		m->file = craft_xstrdup(e->d_name);
		memcpy(m->version, e->d_name, VERSION_LEN);
		m->version[VERSION_LEN] = '\0';
	}
	closedir(d);
	qsort(plan->items, plan->n, sizeof(plan->items[0]), by_file);
	for (size_t i = 1; result == 0 && i < plan->n; i++) {
		if (strcmp(plan->items[i - 1].version, plan->items[i].version) == 0) {
			fprintf(stderr, "craft-migrate: %s and %s share the number %s\n",
				plan->items[i - 1].file, plan->items[i].file,
				plan->items[i].version);
			result = CRAFT_EIO;
		}
	}
	return result;
}

/* Read a whole file of at most MAX_FILE bytes, NUL-terminated, into *out
 * (malloc'd). CRAFT_OK or CRAFT_EIO (reported). */
static int read_file(const char *dir, const char *name, char **out, size_t *len_out)
{
	char path[4096];
	if (snprintf(path, sizeof(path), "%s/%s", dir, name) >= (int)sizeof(path)) {
		fprintf(stderr, "craft-migrate: path too long: %s/%s\n", dir, name);
		return CRAFT_EIO;
	}
	char *data = NULL;
	size_t len = 0;
	int rc = craft_file_read(AT_FDCWD, path, MAX_FILE, &data, &len);
	if (rc == CRAFT_ETOOBIG) {
		fprintf(stderr, "craft-migrate: %s is larger than %ld bytes\n", path, MAX_FILE);
		return CRAFT_EIO;
	}
	if (rc != CRAFT_OK) {
		fprintf(stderr, "craft-migrate: cannot read %s: %s\n", path, strerror(errno));
		return CRAFT_EIO;
	}
	if (memchr(data, '\0', len)) {
		fprintf(stderr, "craft-migrate: %s contains a NUL byte\n", path);
		free(data);
		return CRAFT_EIO;
	}
	*out = data;
	*len_out = len;
	return CRAFT_OK;
}

static void sha256_hex(const char *data, size_t len, char out[SHA256_HEX])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	if (!EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL))
		craft_oom(len); /* only fails when OpenSSL cannot allocate */
	craft_hex_encode(md, mdlen < 32 ? mdlen : 32, out);
}

/* ---- database ---- */

/* The connection string from DATABASE_URL or the POSTGRES_* variables;
 * CRAFT_OK, or CRAFT_ETOOBIG / CRAFT_EINVAL. */
static int conninfo_from_env(char *out, size_t out_len)
{
	const char *url = getenv("DATABASE_URL");
	if (url && *url) {
		if (strlen(url) >= out_len)
			return CRAFT_ETOOBIG;
		memcpy(out, url, strlen(url) + 1);
		return CRAFT_OK;
	}
	return craft_pg_conninfo_build(
	    out, out_len, env_or("POSTGRES_HOST", "localhost"), env_or("POSTGRES_PORT", "5432"),
	    env_or("POSTGRES_USER", "postgres"), env_or("POSTGRES_PASSWORD", "postgres"),
	    env_or("POSTGRES_DB", "craftista"));
}

static void sleep_ms(long ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* Connect, retrying every RETRY_MS until wait_s seconds have passed. */
static PGconn *connect_wait(const char *conninfo, long wait_s)
{
	const char *keys[] = {"connect_timeout", "fallback_application_name", "dbname", NULL};
	const char *vals[] = {"10", "craft-migrate", conninfo, NULL};
	uint64_t deadline = craft_clock_ms() + (uint64_t)wait_s * 1000u;
	bool said = false;
	for (;;) {
		PGconn *pg = PQconnectdbParams(keys, vals, 1);
		if (pg && PQstatus(pg) == CONNECTION_OK)
			return pg;
		if (craft_clock_ms() >= deadline) {
			fprintf(stderr, "craft-migrate: cannot connect to PostgreSQL: %s",
				pg ? PQerrorMessage(pg) : "out of memory\n");
			PQfinish(pg);
			return NULL;
		}
		if (!said) {
			fprintf(stderr, "craft-migrate: waiting up to %lds for PostgreSQL\n",
				wait_s);
			said = true;
		}
		PQfinish(pg);
		sleep_ms(RETRY_MS);
	}
}

/* Run fixed SQL; true on success, else the error is printed. */
static bool command(PGconn *pg, const char *sql, const char *what)
{
	PGresult *res = PQexec(pg, sql);
	ExecStatusType st = PQresultStatus(res);
	bool ok = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK;
	if (!ok)
		fprintf(stderr, "craft-migrate: %s failed: %s", what, PQerrorMessage(pg));
	PQclear(res);
	return ok;
}

static bool take_lock(PGconn *pg)
{
	PGresult *res = PQexec(pg, "SELECT pg_try_advisory_lock(" LOCK_KEY ")");
	bool got =
	    PQresultStatus(res) == PGRES_TUPLES_OK && strcmp(PQgetvalue(res, 0, 0), "t") == 0;
	PQclear(res);
	if (got)
		return true;
	fprintf(stderr, "craft-migrate: another runner holds the migration lock; waiting\n");
	return command(pg, "SELECT pg_advisory_lock(" LOCK_KEY ")", "taking the migration lock");
}

/* The recorded checksum of version into out; 1 found, 0 not recorded, -1 error. */
static int recorded(PGconn *pg, const char *version, char out[SHA256_HEX])
{
	const char *params[] = {version};
	PGresult *res =
	    PQexecParams(pg, "SELECT checksum FROM schema_migrations WHERE version = $1", 1, NULL,
			 params, NULL, NULL, 0);
	int result = -1;
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		fprintf(stderr, "craft-migrate: reading schema_migrations failed: %s",
			PQerrorMessage(pg));
	} else if (PQntuples(res) == 0) {
		result = 0;
	} else {
		snprintf(out, SHA256_HEX, "%s", PQgetvalue(res, 0, 0));
		result = 1;
	}
	PQclear(res);
	return result;
}

/* Apply one file in a transaction together with its record. */
static bool apply(PGconn *pg, const struct migration *m, const char *sql, const char *sum)
{
	if (!command(pg, "BEGIN", m->file))
		return false;
	PGresult *res = PQexec(pg, sql);
	ExecStatusType st = PQresultStatus(res);
	bool ok = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK || st == PGRES_EMPTY_QUERY;
	if (!ok)
		fprintf(stderr, "craft-migrate: %s failed: %s", m->file, PQerrorMessage(pg));
	PQclear(res);
	if (ok) {
		const char *params[] = {m->version, sum};
		res = PQexecParams(
		    pg, "INSERT INTO schema_migrations (version, checksum) VALUES ($1, $2)", 2,
		    NULL, params, NULL, NULL, 0);
		ok = PQresultStatus(res) == PGRES_COMMAND_OK;
		if (!ok)
			fprintf(stderr, "craft-migrate: recording %s failed: %s", m->file,
				PQerrorMessage(pg));
		PQclear(res);
	}
	if (ok) {
		res = PQexec(pg, "COMMIT");
		ok = PQresultStatus(res) == PGRES_COMMAND_OK &&
		     strcmp(PQcmdStatus(res), "COMMIT") == 0;
		if (!ok)
			fprintf(stderr, "craft-migrate: committing %s failed: %s", m->file,
				PQerrorMessage(pg));
		PQclear(res);
	}
	if (!ok && PQtransactionStatus(pg) != PQTRANS_IDLE)
		(void)command(pg, "ROLLBACK", "ROLLBACK");
	return ok;
}

/* Apply or skip each planned file; counts what it did. CRAFT_OK or CRAFT_EIO. */
static int run_plan(PGconn *pg, const char *dir, const struct plan *plan, int *applied,
		    int *skipped)
{
	for (size_t i = 0; i < plan->n; i++) {
		const struct migration *m = &plan->items[i];
		char *sql = NULL;
		size_t len = 0;
		if (read_file(dir, m->file, &sql, &len) != CRAFT_OK)
			return CRAFT_EIO;
		char sum[SHA256_HEX], have[SHA256_HEX];
		sha256_hex(sql, len, sum);
		int found = recorded(pg, m->version, have);
		bool ok = found >= 0;
		if (found == 1 && strcmp(have, sum) != 0) {
			fprintf(stderr,
				"craft-migrate: %s/%s was changed after it was applied "
				"(recorded sha256 %s, file has %s); add a new migration instead\n",
				dir, m->file, have, sum);
			ok = false;
		} else if (found == 1) {
			(*skipped)++;
		} else if (found == 0) {
			ok = apply(pg, m, sql, sum);
			if (ok) {
				printf("applied %s\n", m->file);
				(*applied)++;
			}
		}
		free(sql);
		if (!ok)
			return CRAFT_EIO;
	}
	return CRAFT_OK;
}

static long wait_seconds(void)
{
	const char *v = getenv("MIGRATE_WAIT_S");
	if (!v || !*v)
		return DEFAULT_WAIT_S;
	char *end;
	errno = 0;
	long n = strtol(v, &end, 10);
	if (errno || *end || n < 0 || n > MAX_WAIT_S)
		return -1;
	return n;
}

static int migrate(const char *dir, long wait_s)
{
	struct plan *plan = craft_xcalloc(1, sizeof(*plan));
	char conninfo[CONNINFO_MAX];
	PGconn *pg = NULL;
	int applied = 0, skipped = 0;
	int status = 1;
	if (plan_load(dir, plan) != CRAFT_OK)
		goto out;
	if (conninfo_from_env(conninfo, sizeof(conninfo)) != CRAFT_OK) {
		fprintf(stderr, "craft-migrate: connection settings longer than %d bytes\n",
			CONNINFO_MAX);
		goto out;
	}
	pg = connect_wait(conninfo, wait_s);
	if (!pg || !command(pg, "SET client_min_messages = warning", "setup") || !take_lock(pg))
		goto out;
	if (!command(pg,
		     "CREATE TABLE IF NOT EXISTS schema_migrations ("
		     "version TEXT PRIMARY KEY, checksum TEXT NOT NULL, "
		     "applied_at timestamptz NOT NULL DEFAULT now())",
		     "creating schema_migrations"))
		goto out;
	if (run_plan(pg, dir, plan, &applied, &skipped) != CRAFT_OK)
		goto out;
	printf("migrations: %d applied, %d already applied\n", applied, skipped);
	status = 0;
out:
	if (pg && PQstatus(pg) == CONNECTION_OK)
		(void)command(pg, "SELECT pg_advisory_unlock_all()", "releasing the lock");
	PQfinish(pg);
	plan_free(plan);
	free(plan);
	return status;
}

int main(int argc, char **argv)
{
	bool help = argc == 2 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0);
	if (help || argc > 2 || (argc == 2 && argv[1][0] == '-')) {
		fprintf(help ? stdout : stderr,
			"usage: craft-migrate [DIR]   (default %s)\n"
			"  DATABASE_URL, or POSTGRES_HOST/PORT/USER/PASSWORD/DB;\n"
			"  MIGRATE_WAIT_S seconds to wait for the server (default %ld)\n",
			DEFAULT_DIR, DEFAULT_WAIT_S);
		return help ? 0 : 2;
	}
	long wait_s = wait_seconds();
	if (wait_s < 0) {
		fprintf(stderr, "craft-migrate: MIGRATE_WAIT_S must be 0..%ld\n", MAX_WAIT_S);
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	return migrate(argc == 2 ? argv[1] : DEFAULT_DIR, wait_s);
}
