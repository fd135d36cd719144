#include "cache.h"

#include "craft/common.h"
#include "craft/log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define KEY_FMT "craftista:v1:product:%ld"

/* KEYS[1] entry; ARGV version, payload, ttl. 1 stored, 0 a newer entry is kept. */
static const char CAS_LUA[] =
    "local cur = redis.call('GET', KEYS[1])\n"
    "if cur then\n"
    "  local v = tonumber(string.match(cur, '^(%d+)|'))\n"
    "  if v and v >= tonumber(ARGV[1]) then return 0 end\n"
    "end\n"
    "redis.call('SET', KEYS[1], ARGV[1] .. '|' .. ARGV[2], 'EX', tonumber(ARGV[3]))\n"
    "return 1\n";

const struct craft_redis_script product_cache_scripts[] = {
    {.name = "product_cas", .lua = CAS_LUA},
};
const size_t product_cache_nscripts = CRAFT_ARRAY_LEN(product_cache_scripts);

json_t *product_json(const struct product *p)
{
	return json_pack("{s:I, s:s, s:s, s:s, s:I}", "id", (json_int_t)p->id, "name", p->name,
			 "description", p->description, "image_url", p->image_url, "votes",
			 (json_int_t)p->votes);
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

/* Compare-and-set; `json` NULL writes a deletion marker. */
static int cas(struct product_cache *c, craft_arena *a, const craft_span *s, long id,
	       long long version, const char *json)
{
	const char *argv[] = {craft_arena_sprintf(a, KEY_FMT, id),
			      craft_arena_sprintf(a, "%lld", version), json ? json : "",
			      craft_arena_sprintf(a, "%ld", c->ttl_s)};
	redisReply *r = NULL;
	int rc = craft_redis_eval(c->redis, a, s, &r, "product_cas", 1, 4, argv, NULL);
	if (rc == CRAFT_OK && (!r || r->type != REDIS_REPLY_INTEGER))
		rc = CRAFT_EIO;
	return rc;
}

static char *encode(craft_arena *a, const struct product *p)
{
	json_t *j = product_json(p);
	char *text = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	if (!text)
		craft_oom(0);
	char *copy = craft_arena_strdup(a, text);
	free(text);
	return copy;
}

/* Parse an entry; 1 product, 0 deletion marker, -1 malformed. */
static int decode(craft_arena *a, const char *entry, size_t len, struct product *out)
{
	const char *bar = memchr(entry, '|', len);
	if (!bar)
		return -1;
	out->version = strtoll(entry, NULL, 10);
	size_t jlen = len - (size_t)(bar + 1 - entry);
	if (jlen == 0)
		return 0;
	json_t *j = json_loadb(bar + 1, jlen, 0, NULL);
	if (!j)
		return -1;
	json_int_t id = 0, votes = 0;
	const char *name = NULL, *desc = NULL, *img = NULL;
	int ok = json_unpack(j, "{s:I, s:s, s:s, s:s, s:I}", "id", &id, "name", &name,
			     "description", &desc, "image_url", &img, "votes", &votes) == 0;
	if (ok) {
		out->id = (long)id;
		out->votes = (long)votes;
		out->name = craft_arena_strdup(a, name);
		out->description = craft_arena_strdup(a, desc);
		out->image_url = craft_arena_strdup(a, img);
	}
	json_decref(j);
	return ok ? 1 : -1;
}

int product_cache_get(struct product_cache *c, craft_arena *a, const craft_span *s, long id,
		      struct product *out)
{
	if (atomic_load(&c->trusted)) {
		const char *argv[] = {"GET", craft_arena_sprintf(a, KEY_FMT, id)};
		redisReply *r = NULL;
		int rc = craft_redis_command(c->redis, a, s, &r, 2, argv, NULL);
		if (rc == CRAFT_OK &&
		    craft_redis_server_epoch(c->redis) != atomic_load(&c->epoch_seen)) {
			distrust(c); /* Redis restarted since the last repair pass */
		} else if (rc == CRAFT_OK && r->type == REDIS_REPLY_STRING) {
			int d = decode(a, r->str, r->len, out);
			if (d >= 0) {
				atomic_fetch_add(&c->hits, 1);
				return d == 1 ? CRAFT_OK : CRAFT_ENOTFOUND;
			}
		} else if (rc != CRAFT_OK) {
			distrust(c);
		}
		atomic_fetch_add(&c->misses, 1);
	} else {
		atomic_fetch_add(&c->bypassed, 1);
	}
	int rc = store_get(c->pg, a, s, id, out);
	if (rc == CRAFT_OK && cas(c, a, s, id, out->version, encode(a, out)) != CRAFT_OK)
		distrust(c); /* a failed fill leaves nothing stale: no repair needed */
	return rc;
}

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
	if (cas(c, a, s, p->id, p->version, encode(a, p)) != CRAFT_OK)
		note_repair(c, a, s, p->id, p->version);
}

void product_cache_deleted(struct product_cache *c, craft_arena *a, const craft_span *s, long id,
			   long long version)
{
	if (cas(c, a, s, id, version, NULL) != CRAFT_OK)
		note_repair(c, a, s, id, version);
}

enum pass_result { PASS_OK, PASS_REDIS_DOWN, PASS_PG_DOWN };

/* Rewrite one listed entry from PostgreSQL, then forget it. */
static enum pass_result repair_one(struct product_cache *c, craft_arena *a, const struct repair *r)
{
	struct product p;
	int rc = store_get(c->pg, a, NULL, r->id, &p);
	if (rc != CRAFT_OK && rc != CRAFT_ENOTFOUND)
		return PASS_PG_DOWN;
	rc = rc == CRAFT_OK ? cas(c, a, NULL, p.id, p.version, encode(a, &p))
			    : cas(c, a, NULL, r->id, r->version, NULL);
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
		struct timespec until;
		clock_gettime(CLOCK_REALTIME, &until);
		/* Retry soon while Redis is away, gently while PostgreSQL is. */
		long ms = ok ? (long)c->repair_interval_ms : res == PASS_PG_DOWN ? 2000 : 250;
		until.tv_sec += ms / 1000;
		until.tv_nsec += (ms % 1000) * 1000000L;
		if (until.tv_nsec >= 1000000000L) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000L;
		}
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
	pthread_mutex_init(&c->lock, NULL);
	pthread_cond_init(&c->wake, NULL);
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
}
