#include "cache.h"

#include "craft/clock.h"
#include "craft/common.h"
#include "craft/log.h"

#include "repr.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/rand.h>

#define KEY_PREFIX "craftista:v1:product:"
#define LIST_KEY   "craftista:v1:products"
#define KEY_MAX    64

/* KEYS[1] entry; ARGV version, payload, ttl. 1 stored, 0 a newer entry is kept. */
#define CAS_BODY                                                                                   \
	"local cur = redis.call('GET', KEYS[1])\n"                                                 \
	"if cur then\n"                                                                            \
	"  local v = tonumber(string.match(cur, '^(%d+)|'))\n"                                     \
	"  if v and v >= tonumber(ARGV[1]) then stored = 0 end\n"                                  \
	"end\n"                                                                                    \
	"if stored == 1 then\n"                                                                    \
	"  redis.call('SET', KEYS[1], ARGV[1] .. '|' .. ARGV[2], 'EX', tonumber(ARGV[3]))\n"       \
	"end\n"

static const char CAS_LUA[] = "local stored = 1\n" CAS_BODY "return stored\n";

/* A writer's update: the product's compare-and-set, and the list replaced by
 * a fresh generation (ARGV[4]) that holds no list. KEYS[2] is the list. */
static const char WRITE_LUA[] =
    "local stored = 1\n" CAS_BODY
    "redis.call('SET', KEYS[2], ARGV[4] .. '|', 'EX', tonumber(ARGV[3]))\n"
    "return stored\n";

/* The list entry; when missing, an invalid one with generation ARGV[1] is
 * created first, so a reader never bets on absence (which a restart or an
 * eviction could bring back). */
static const char LIST_OPEN_LUA[] = "local cur = redis.call('GET', KEYS[1])\n"
				    "if cur then return cur end\n"
				    "local e = ARGV[1] .. '|'\n"
				    "redis.call('SET', KEYS[1], e, 'EX', tonumber(ARGV[2]))\n"
				    "return e\n";

/* Store a list read from PostgreSQL only if the generation is still ARGV[1]. */
static const char LIST_FILL_LUA[] =
    "local cur = redis.call('GET', KEYS[1])\n"
    "if not cur or string.match(cur, '^([^|]*)|') ~= ARGV[1] then return 0 end\n"
    "redis.call('SET', KEYS[1], ARGV[1] .. '|' .. ARGV[2] .. '|' .. ARGV[3], 'EX', "
    "tonumber(ARGV[4]))\n"
    "return 1\n";

const struct craft_redis_script product_cache_scripts[] = {
    {.name = "product_cas", .lua = CAS_LUA},
    {.name = "product_write", .lua = WRITE_LUA},
    {.name = "product_list_open", .lua = LIST_OPEN_LUA},
    {.name = "product_list_fill", .lua = LIST_FILL_LUA},
};
const size_t product_cache_nscripts = CRAFT_ARRAY_LEN(product_cache_scripts);

/* The list's single flight: at most one PostgreSQL read of the list per
 * process; readers that began before it started wait for it, then reuse it
 * only if it began after them. */
struct product_list_flight {
	pthread_mutex_t lock;
	pthread_cond_t done;
	bool running;
	uint64_t running_since;
	unsigned long completed;
	/* the last read: when it began, its result, and its data (malloc'd) */
	uint64_t last_since;
	int last_rc;
	char *json;
	size_t len;
	char etag[PRODUCT_ETAG_MAX];
};

uint64_t product_cache_now_ns(void)
{
	return craft_clock_ns();
}

static void distrust(struct product_cache *c)
{
	if (atomic_exchange(&c->trusted, false)) {
		craft_log(CRAFT_LOG_WARN, NULL, "product cache untrusted until repaired", NULL);
		pthread_mutex_lock(&c->lock);
		pthread_cond_signal(&c->wake);
		pthread_mutex_unlock(&c->lock);
	}
}

static void new_token(struct product_cache *c, char out[PRODUCT_TOKEN_MAX])
{
	product_token_format(out, c->token_prefix, atomic_fetch_add(&c->token_seq, 1));
}

static int expect_integer(int rc, const redisReply *r)
{
	return rc == CRAFT_OK && (!r || r->type != REDIS_REPLY_INTEGER) ? CRAFT_EIO : rc;
}

/* Compare-and-set of one entry; `json` NULL writes a deletion marker. With
 * `write` (a committed change) the list is invalidated in the same script. */
static int cas(struct product_cache *c, craft_arena *a, const craft_span *s, long id,
	       long long version, const char *json, bool write)
{
	char key[KEY_MAX], ver[24], ttl[24], token[PRODUCT_TOKEN_MAX];
	product_key(key, sizeof(key), KEY_PREFIX, id);
	snprintf(ver, sizeof(ver), "%lld", version);
	snprintf(ttl, sizeof(ttl), "%ld", c->ttl_s);
	redisReply *r = NULL;
	int rc;
	if (write) {
		new_token(c, token);
		const char *argv[] = {key, LIST_KEY, ver, json ? json : "", ttl, token};
		rc = craft_redis_eval(c->redis, a, s, &r, "product_write", 2, 6, argv, NULL);
	} else {
		const char *argv[] = {key, ver, json ? json : "", ttl};
		rc = craft_redis_eval(c->redis, a, s, &r, "product_cas", 1, 4, argv, NULL);
	}
	return expect_integer(rc, r);
}

int product_view_decode(craft_arena *a, const struct product_view *v, struct product *out)
{
	return product_repr_decode(a, v->json, v->len, v->version, out);
}

/* A Redis call on the read path: 0 to use the reply, else trust is gone. */
static bool read_ok(struct product_cache *c, int rc)
{
	if (rc == CRAFT_OK && craft_redis_server_epoch(c->redis) != atomic_load(&c->epoch_seen)) {
		distrust(c); /* Redis restarted since the last repair pass */
		return false;
	}
	if (rc != CRAFT_OK) {
		distrust(c);
		return false;
	}
	return true;
}

/* The entry from Redis: 0 / CRAFT_ENOTFOUND (a tombstone) when served,
 * CRAFT_EUNAVAIL when PostgreSQL must answer (untrusted, missing, failed). */
static int item_from_redis(struct product_cache *c, craft_arena *a, const craft_span *s, long id,
			   struct product_view *out)
{
	if (!atomic_load(&c->trusted))
		return CRAFT_EUNAVAIL;
	char key[KEY_MAX];
	product_key(key, sizeof(key), KEY_PREFIX, id);
	const char *argv[] = {"GET", key};
	redisReply *r = NULL;
	int rc = craft_redis_command(c->redis, a, s, &r, 2, argv, NULL);
	if (read_ok(c, rc) && r->type == REDIS_REPLY_STRING &&
	    product_entry_item(r->str, r->len, &out->version, &out->json, &out->len) == CRAFT_OK) {
		atomic_fetch_add(&c->hits, 1);
		return out->len ? CRAFT_OK : CRAFT_ENOTFOUND;
	}
	return CRAFT_EUNAVAIL;
}

int product_cache_peek(struct product_cache *c, craft_arena *a, const craft_span *s, long id,
		       struct product_view *out)
{
	return item_from_redis(c, a, s, id, out);
}

int product_cache_get(struct product_cache *c, craft_arena *a, const craft_span *s, long id,
		      struct product_view *out)
{
	bool trusted = atomic_load(&c->trusted);
	int hit = item_from_redis(c, a, s, id, out);
	if (hit != CRAFT_EUNAVAIL)
		return hit;
	atomic_fetch_add(trusted ? &c->misses : &c->bypassed, 1);
	struct product p;
	int rc = store_get(c->pg, a, s, id, &p);
	if (rc)
		return rc;
	char *json = product_repr_render(a, &p, &out->len);
	out->json = json;
	out->version = p.version;
	if (cas(c, a, s, id, p.version, json, false) != CRAFT_OK)
		distrust(c); /* a failed fill leaves nothing stale: no repair needed */
	return CRAFT_OK;
}

/* ---- the list ---- */

/* Read the list from PostgreSQL and render it (bytes and ETag). */
static int list_from_db(struct product_cache *c, craft_arena *a, const craft_span *s,
			struct product_list_view *out)
{
	struct product *items = NULL;
	size_t n = 0;
	int rc = store_list(c->pg, a, s, &items, &n);
	if (rc)
		return rc;
	out->json = product_repr_render_list(a, items, n, &out->len);
	product_etag_list(out->etag, items, n);
	atomic_fetch_add(&c->list_fills, 1);
	return CRAFT_OK;
}

/* The list from PostgreSQL, through the single flight: a read that began
 * after `started_ns` is reused, else this caller reads (one at a time). */
static int list_shared(struct product_cache *c, craft_arena *a, const craft_span *s,
		       uint64_t started_ns, struct product_list_view *out)
{
	struct product_list_flight *f = c->flight;
	pthread_mutex_lock(&f->lock);
	for (;;) {
		if (f->completed && f->last_since > started_ns) {
			int rc = f->last_rc;
			if (rc == CRAFT_OK) {
				char *copy = craft_arena_alloc(a, f->len ? f->len : 1);
				memcpy(copy, f->json, f->len);
				out->json = copy;
				out->len = f->len;
				memcpy(out->etag, f->etag, sizeof(out->etag));
				atomic_fetch_add(&c->list_shared, 1);
			}
			pthread_mutex_unlock(&f->lock);
			return rc;
		}
		if (!f->running)
			break;
		unsigned long seen = f->completed;
		while (f->running && f->completed == seen)
			pthread_cond_wait(&f->done, &f->lock);
	}
	f->running = true;
	uint64_t since = f->running_since = product_cache_now_ns();
	pthread_mutex_unlock(&f->lock);

	int rc = list_from_db(c, a, s, out);

	pthread_mutex_lock(&f->lock);
	f->running = false;
	f->completed++;
	f->last_since = since;
	f->last_rc = rc;
	if (rc == CRAFT_OK) {
		char *keep = realloc(f->json, out->len ? out->len : 1);
		if (!keep)
			craft_oom(out->len);
		memcpy(keep, out->json, out->len);
		f->json = keep;
		f->len = out->len;
		memcpy(f->etag, out->etag, sizeof(f->etag));
	}
	pthread_cond_broadcast(&f->done);
	pthread_mutex_unlock(&f->lock);
	return rc;
}

/* Read the list entry (creating an invalid one when missing). 0 with a
 * parsed entry, else Redis failed or the entry is malformed. */
static int list_entry(struct product_cache *c, craft_arena *a, const craft_span *s,
		      struct product_list_entry *e)
{
	const char *get[] = {"GET", LIST_KEY};
	redisReply *r = NULL;
	int rc = craft_redis_command(c->redis, a, s, &r, 2, get, NULL);
	if (!read_ok(c, rc))
		return CRAFT_EIO;
	if (r->type == REDIS_REPLY_NIL) {
		char token[PRODUCT_TOKEN_MAX], ttl[24];
		new_token(c, token);
		snprintf(ttl, sizeof(ttl), "%ld", c->ttl_s);
		const char *argv[] = {LIST_KEY, token, ttl};
		r = NULL;
		rc = craft_redis_eval(c->redis, a, s, &r, "product_list_open", 1, 3, argv, NULL);
		if (!read_ok(c, rc))
			return CRAFT_EIO;
	}
	if (r->type != REDIS_REPLY_STRING || product_entry_list(r->str, r->len, e) != CRAFT_OK)
		return CRAFT_EIO;
	return CRAFT_OK;
}

/* Serve a valid list entry as it is. */
static int list_hit(struct product_cache *c, const struct product_list_entry *e,
		    struct product_list_view *out)
{
	memcpy(out->etag, e->etag, e->etag_len);
	out->etag[e->etag_len] = '\0';
	out->json = e->json;
	out->len = e->json_len;
	atomic_fetch_add(&c->list_hits, 1);
	return CRAFT_OK;
}

int product_cache_list_peek(struct product_cache *c, craft_arena *a, const craft_span *s,
			    struct product_list_view *out)
{
	if (!atomic_load(&c->trusted))
		return CRAFT_EUNAVAIL;
	const char *get[] = {"GET", LIST_KEY};
	redisReply *r = NULL;
	struct product_list_entry e;
	int rc = craft_redis_command(c->redis, a, s, &r, 2, get, NULL);
	if (!read_ok(c, rc) || r->type != REDIS_REPLY_STRING ||
	    product_entry_list(r->str, r->len, &e) != CRAFT_OK || !e.valid)
		return CRAFT_EUNAVAIL;
	return list_hit(c, &e, out);
}

int product_cache_list(struct product_cache *c, craft_arena *a, const craft_span *s,
		       uint64_t started_ns, struct product_list_view *out)
{
	struct product_list_entry e;
	bool have_gen = false;
	uint64_t since = started_ns;
	if (atomic_load(&c->trusted)) {
		if (list_entry(c, a, s, &e) == CRAFT_OK) {
			/* A shared read must have begun after this generation was
			 * read, not merely after the request began: one that began
			 * before could miss a writer whose new generation is the
			 * very one read here, and the fill would then succeed. */
			since = product_cache_now_ns();
			if (e.valid)
				return list_hit(c, &e, out);
			have_gen = true;
		}
		atomic_fetch_add(&c->list_misses, 1);
	} else {
		atomic_fetch_add(&c->bypassed, 1);
	}
	/* The generation was read before PostgreSQL: a writer that commits
	 * after this snapshot replaces it, and the fill below is refused. */
	int rc = list_shared(c, a, s, since, out);
	if (rc || !have_gen)
		return rc;
	char gen[PRODUCT_TOKEN_MAX], ttl[24];
	memcpy(gen, e.gen, e.gen_len);
	gen[e.gen_len] = '\0';
	snprintf(ttl, sizeof(ttl), "%ld", c->ttl_s);
	const char *argv[] = {LIST_KEY, gen, out->etag, out->json, ttl};
	const size_t argvlen[] = {sizeof(LIST_KEY) - 1, e.gen_len, strlen(out->etag), out->len,
				  strlen(ttl)};
	redisReply *r = NULL;
	int frc = craft_redis_eval(c->redis, a, s, &r, "product_list_fill", 1, 5, argv, argvlen);
	if (expect_integer(frc, r) != CRAFT_OK)
		distrust(c); /* nothing stale was stored: no repair needed */
	return CRAFT_OK;
}

/* ---- writers ---- */

static void note_repair(struct product_cache *c, craft_arena *a, const craft_span *s, long id,
			long long version)
{
	atomic_fetch_add(&c->write_failures, 1);
	distrust(c);
	if (store_repair_note(c->pg, a, s, id, version) != CRAFT_OK)
		craft_log(CRAFT_LOG_ERROR, s, "cannot record a cache repair", "{s:I}", "product_id",
			  (json_int_t)id);
}

void product_cache_put(struct product_cache *c, craft_arena *a, const craft_span *s,
		       const struct product *p)
{
	if (cas(c, a, s, p->id, p->version, product_repr_render(a, p, NULL), true) != CRAFT_OK)
		note_repair(c, a, s, p->id, p->version);
}

void product_cache_deleted(struct product_cache *c, craft_arena *a, const craft_span *s, long id,
			   long long version)
{
	if (cas(c, a, s, id, version, NULL, true) != CRAFT_OK)
		note_repair(c, a, s, id, version);
}

/* Replace the list with a fresh generation: whatever was filled before is
 * no longer served. */
static int list_invalidate(struct product_cache *c, craft_arena *a)
{
	char token[PRODUCT_TOKEN_MAX], entry[PRODUCT_TOKEN_MAX + 1], ttl[24];
	new_token(c, token);
	snprintf(entry, sizeof(entry), "%s|", token);
	snprintf(ttl, sizeof(ttl), "%ld", c->ttl_s);
	const char *argv[] = {"SET", LIST_KEY, entry, "EX", ttl};
	redisReply *r = NULL;
	int rc = craft_redis_command(c->redis, a, NULL, &r, 5, argv, NULL);
	return rc == CRAFT_OK && r && r->type == REDIS_REPLY_STATUS ? CRAFT_OK : CRAFT_EIO;
}

enum pass_result { PASS_OK, PASS_REDIS_DOWN, PASS_PG_DOWN };

/* Rewrite one listed entry from PostgreSQL, then forget it. */
static enum pass_result repair_one(struct product_cache *c, craft_arena *a, const struct repair *r)
{
	struct product p;
	int rc = store_get(c->pg, a, NULL, r->id, &p);
	if (rc != CRAFT_OK && rc != CRAFT_ENOTFOUND)
		return PASS_PG_DOWN;
	rc = rc == CRAFT_OK
		 ? cas(c, a, NULL, p.id, p.version, product_repr_render(a, &p, NULL), false)
		 : cas(c, a, NULL, r->id, r->version, NULL, false);
	if (rc != CRAFT_OK)
		return PASS_REDIS_DOWN;
	if (store_repair_done(c->pg, a, NULL, r->id, r->version) != CRAFT_OK)
		return PASS_PG_DOWN;
	atomic_fetch_add(&c->repaired, 1);
	return PASS_OK;
}

/* Rewrite every listed entry. PASS_OK when Redis and PostgreSQL answered
 * and nothing is left to repair. */
static enum pass_result repair_pass(struct product_cache *c, unsigned long *epoch)
{
	if (craft_redis_ping(c->redis, NULL) != CRAFT_OK)
		return PASS_REDIS_DOWN;
	*epoch = craft_redis_server_epoch(c->redis); /* the instance this pass repairs */
	craft_arena *a = craft_arena_new(0);
	struct repair *todo = NULL;
	size_t n = 0;
	enum pass_result res = PASS_OK;
	if (store_repair_pending(c->pg, a, NULL, &todo, &n) != CRAFT_OK)
		res = PASS_PG_DOWN;
	for (size_t i = 0; res == PASS_OK && i < n; i++)
		res = repair_one(c, a, &todo[i]);
	/* Repaired rows, an untrusted cache or a new Redis instance: the list
	 * may predate a change, so it gets a fresh generation. */
	bool renew = n > 0 || !atomic_load(&c->trusted) || *epoch != atomic_load(&c->epoch_seen);
	if (res == PASS_OK && renew && list_invalidate(c, a) != CRAFT_OK)
		res = PASS_REDIS_DOWN;
	craft_arena_free(a);
	return res;
}

static void *repairer(void *arg)
{
	struct product_cache *c = arg;
	pthread_mutex_lock(&c->lock);
	while (!c->stopping) {
		pthread_mutex_unlock(&c->lock);
		unsigned long epoch = 0;
		enum pass_result res = repair_pass(c, &epoch);
		if (res == PASS_OK)
			atomic_store(&c->epoch_seen, epoch);
		/* Trust only after a complete pass; lose it when Redis fails. A
		 * PostgreSQL failure alone changes nothing: cached reads go on. */
		if (res == PASS_OK && !atomic_exchange(&c->trusted, true))
			craft_log(CRAFT_LOG_INFO, NULL, "product cache trusted", NULL);
		else if (res == PASS_REDIS_DOWN)
			distrust(c);
		bool ok = res == PASS_OK;
		/* Retry soon while Redis is away, gently while PostgreSQL is. */
		long ms = ok ? (long)c->repair_interval_ms : res == PASS_PG_DOWN ? 2000 : 250;
		struct timespec until = craft_deadline_ms((uint64_t)ms);
		pthread_mutex_lock(&c->lock);
		if (!c->stopping)
			pthread_cond_timedwait(&c->wake, &c->lock, &until);
	}
	pthread_mutex_unlock(&c->lock);
	return NULL;
}

int product_cache_start(struct product_cache *c, craft_redis_pool *redis, craft_pg_pool *pg,
			long ttl_s, unsigned repair_interval_ms)
{
	c->redis = redis;
	c->pg = pg;
	c->ttl_s = ttl_s;
	c->repair_interval_ms = repair_interval_ms;
	atomic_init(&c->trusted, false);
	atomic_init(&c->epoch_seen, 0);
	atomic_init(&c->token_seq, 0);
	unsigned char seed[8];
	if (RAND_bytes(seed, sizeof(seed)) != 1)
		return CRAFT_EIO;
	craft_hex_encode(seed, sizeof(seed), c->token_prefix);
	c->flight = calloc(1, sizeof(*c->flight));
	if (!c->flight)
		craft_oom(sizeof(*c->flight));
	pthread_mutex_init(&c->flight->lock, NULL);
	pthread_cond_init(&c->flight->done, NULL);
	pthread_mutex_init(&c->lock, NULL);
	craft_cond_init_monotonic(&c->wake);
	c->stopping = false;
	return pthread_create(&c->thread, NULL, repairer, c) == 0 ? CRAFT_OK : CRAFT_EIO;
}

void product_cache_stop(struct product_cache *c)
{
	pthread_mutex_lock(&c->lock);
	c->stopping = true;
	pthread_cond_signal(&c->wake);
	pthread_mutex_unlock(&c->lock);
	pthread_join(c->thread, NULL);
	pthread_cond_destroy(&c->wake);
	pthread_mutex_destroy(&c->lock);
	pthread_cond_destroy(&c->flight->done);
	pthread_mutex_destroy(&c->flight->lock);
	free(c->flight->json);
	free(c->flight);
	c->flight = NULL;
}
