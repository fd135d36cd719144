#include "jwks_cache.h"

#include "clock.h"
#include "arena.h"
#include "common.h"
#include "log.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define VERIFIED_SLOTS     1024u /* tokens remembered as verified */
#define VERIFIED_STRIPES   16u
#define VERIFIED_TOKEN_MAX 2048u /* longer tokens are always verified in full */

/* A key set shared by readers; freed when the last reference goes. */
struct keyset {
	craft_jwks *jwks;
	atomic_int refs;
	uint64_t generation; /* unique per installed set */
};

/* A token that passed every check against one key set, and its claims. */
struct verified {
	char *token; /* NULL: empty slot */
	size_t len;
	uint64_t generation;
	struct craft_jwt_claims claims; /* owns one reference to the payload */
};

struct craft_jwks_cache {
	struct craft_jwks_cache_options o;
	char *url, *issuer, *audience;
	pthread_mutex_t lock; /* guards current, last_fetch_ms, counters */
	struct keyset *current;
	uint64_t last_fetch_ms;
	unsigned long fetches, failures, kid_fetches;
	uint64_t generations;       /* key sets installed */
	pthread_mutex_t fetch_lock; /* single flight */
	struct verified *verified;  /* VERIFIED_SLOTS, striped locks below */
	pthread_mutex_t verified_lock[VERIFIED_STRIPES];
	atomic_ulong verified_hits;
	pthread_mutex_t stop_lock;
	pthread_cond_t stop_cond; /* on CLOCK_MONOTONIC */
	bool stopping;
	pthread_t thread;
};

static void keyset_release(struct keyset *k)
{
	if (k && atomic_fetch_sub(&k->refs, 1) == 1) {
		craft_jwks_free(k->jwks);
		free(k);
	}
}

static struct keyset *keyset_acquire(craft_jwks_cache *c)
{
	pthread_mutex_lock(&c->lock);
	struct keyset *k = c->current;
	if (k)
		atomic_fetch_add(&k->refs, 1);
	pthread_mutex_unlock(&c->lock);
	return k;
}

/* Fetch the document and install it; the old set stays on any failure. */
static int fetch(craft_jwks_cache *c, const craft_span *parent)
{
	craft_arena *arena = craft_arena_new(0);
	struct craft_httpc_request req = {.method = CRAFT_HTTPC_GET,
					  .url = c->url,
					  .url_template = "/.well-known/jwks.json",
					  .timeout_ms = c->o.timeout_ms,
					  .max_body = CRAFT_JWKS_MAX_LEN};
	struct craft_httpc_response resp;
	int rc = craft_httpc_do(c->o.http, arena, parent, &req, &resp);
	craft_jwks *set = NULL;
	char err[256] = "";
	if (rc == CRAFT_OK && resp.status != 200) {
		snprintf(err, sizeof(err), "status %u", resp.status);
		rc = CRAFT_EIO;
	} else if (rc == CRAFT_OK) {
		rc = craft_jwks_from_json(resp.body, resp.body_len, &set, err, sizeof(err));
	} else {
		snprintf(err, sizeof(err), "%s", craft_strerror(rc));
	}
	pthread_mutex_lock(&c->lock);
	c->fetches++;
	c->last_fetch_ms = craft_clock_ms();
	struct keyset *old = NULL;
	if (rc == CRAFT_OK) {
		struct keyset *k = craft_xcalloc(1, sizeof(*k));
		k->jwks = set;
		atomic_init(&k->refs, 1);
		k->generation = ++c->generations;
		old = c->current;
		c->current = k;
	} else {
		c->failures++;
	}
	pthread_mutex_unlock(&c->lock);
	keyset_release(old);
	if (rc)
		craft_log(CRAFT_LOG_WARN, parent, "cannot fetch the JWK set", "{s:s, s:s}", "url",
			  c->url, "error", err);
	craft_arena_free(arena);
	return rc;
}

static void *refresher(void *arg)
{
	craft_jwks_cache *c = arg;
	pthread_mutex_lock(&c->stop_lock);
	while (!c->stopping) {
		pthread_mutex_unlock(&c->stop_lock);
		pthread_mutex_lock(&c->fetch_lock);
		fetch(c, NULL);
		pthread_mutex_unlock(&c->fetch_lock);
		unsigned wait_s = craft_jwks_cache_ready(c) ? c->o.refresh_s : 2;
		struct timespec until = craft_deadline_ms((uint64_t)wait_s * 1000u);
		pthread_mutex_lock(&c->stop_lock);
		while (!c->stopping &&
		       pthread_cond_timedwait(&c->stop_cond, &c->stop_lock, &until) != ETIMEDOUT)
			;
	}
	pthread_mutex_unlock(&c->stop_lock);
	return NULL;
}

int craft_jwks_cache_new(const struct craft_jwks_cache_options *opts, craft_jwks_cache **out)
{
	if (!opts->url || !opts->http)
		return CRAFT_EINVAL;
	craft_jwks_cache *c = craft_xcalloc(1, sizeof(*c));
	c->o = *opts;
	c->url = craft_xstrdup(opts->url);
	c->issuer = craft_xstrdup(opts->verify.issuer ? opts->verify.issuer : "");
	c->audience = craft_xstrdup(opts->verify.audience ? opts->verify.audience : "");
	c->o.url = c->url;
	c->o.verify.issuer = c->issuer;
	c->o.verify.audience = c->audience;
	if (!c->o.refresh_s)
		c->o.refresh_s = 300;
	if (!c->o.min_refetch_ms)
		c->o.min_refetch_ms = 10000;
	if (!c->o.timeout_ms)
		c->o.timeout_ms = 2000;
	pthread_mutex_init(&c->lock, NULL);
	pthread_mutex_init(&c->fetch_lock, NULL);
	c->verified = craft_xcalloc(VERIFIED_SLOTS, sizeof(*c->verified));
	for (unsigned i = 0; i < VERIFIED_STRIPES; i++)
		pthread_mutex_init(&c->verified_lock[i], NULL);
	pthread_mutex_init(&c->stop_lock, NULL);
	craft_cond_init_monotonic(&c->stop_cond);
	if (pthread_create(&c->thread, NULL, refresher, c) != 0) {
		c->stopping = true;
		craft_jwks_cache_free(c);
		return CRAFT_EIO;
	}
	*out = c;
	return CRAFT_OK;
}

void craft_jwks_cache_free(craft_jwks_cache *c)
{
	if (!c)
		return;
	pthread_mutex_lock(&c->stop_lock);
	bool running = !c->stopping;
	c->stopping = true;
	pthread_cond_broadcast(&c->stop_cond);
	pthread_mutex_unlock(&c->stop_lock);
	if (running)
		pthread_join(c->thread, NULL);
	keyset_release(c->current);
	for (unsigned i = 0; i < VERIFIED_SLOTS; i++) {
		free(c->verified[i].token);
		craft_jwt_claims_cleanup(&c->verified[i].claims);
	}
	free(c->verified);
	for (unsigned i = 0; i < VERIFIED_STRIPES; i++)
		pthread_mutex_destroy(&c->verified_lock[i]);
	pthread_cond_destroy(&c->stop_cond);
	pthread_mutex_destroy(&c->stop_lock);
	pthread_mutex_destroy(&c->fetch_lock);
	pthread_mutex_destroy(&c->lock);
	free(c->url);
	free(c->issuer);
	free(c->audience);
	free(c);
}

bool craft_jwks_cache_ready(craft_jwks_cache *c)
{
	pthread_mutex_lock(&c->lock);
	bool ready = c->current != NULL;
	pthread_mutex_unlock(&c->lock);
	return ready;
}

/* ---- tokens already verified ----
 *
 * An RS256 check costs far more than serving most requests, and a session
 * sends the same token many times. A token that passed every check against
 * key set G is remembered with its claims; the same bytes are accepted again
 * without the RSA work only while G is still the current set and the token
 * has not expired (no leeway: near its end it is checked in full again).
 * The slot is chosen by a hash of the token but the whole token is compared,
 * so a collision can only cost a full check, never accept another token. */

static uint64_t token_hash(const char *token, size_t len)
{
	uint64_t h = 1469598103934665603ull; /* FNV-1a */
	for (size_t i = 0; i < len; i++) {
		h ^= (unsigned char)token[i];
		h *= 1099511628211ull;
	}
	return h;
}

static bool remembered(craft_jwks_cache *c, const struct keyset *k, const char *token, size_t len,
		       uint64_t h, struct craft_jwt_claims *out)
{
	struct verified *v = &c->verified[h % VERIFIED_SLOTS];
	pthread_mutex_t *mu = &c->verified_lock[h % VERIFIED_STRIPES];
	bool hit = false;
	pthread_mutex_lock(mu);
	if (v->token && v->len == len && v->generation == k->generation &&
	    (long long)time(NULL) < v->claims.exp && memcmp(v->token, token, len) == 0) {
		*out = v->claims;
		json_incref(out->payload);
		hit = true;
	}
	pthread_mutex_unlock(mu);
	if (hit)
		atomic_fetch_add_explicit(&c->verified_hits, 1, memory_order_relaxed);
	return hit;
}

static void remember(craft_jwks_cache *c, const struct keyset *k, const char *token, size_t len,
		     uint64_t h, const struct craft_jwt_claims *claims)
{
	struct verified *v = &c->verified[h % VERIFIED_SLOTS];
	pthread_mutex_t *mu = &c->verified_lock[h % VERIFIED_STRIPES];
	char *copy = craft_xmalloc(len);
	memcpy(copy, token, len);
	struct craft_jwt_claims keep = *claims;
	json_incref(keep.payload);
	pthread_mutex_lock(mu);
	char *old_token = v->token;
	struct craft_jwt_claims old = v->claims;
	*v = (struct verified){
	    .token = copy, .len = len, .generation = k->generation, .claims = keep};
	pthread_mutex_unlock(mu);
	free(old_token);
	craft_jwt_claims_cleanup(&old);
}

static int verify_with(craft_jwks_cache *c, const char *token, size_t len,
		       struct craft_jwt_claims *claims, const char **reason)
{
	struct keyset *k = keyset_acquire(c);
	if (!k) {
		*reason = "no signing keys available yet";
		return CRAFT_EUNAVAIL;
	}
	bool keep = len > 0 && len <= VERIFIED_TOKEN_MAX;
	uint64_t h = keep ? token_hash(token, len) : 0;
	if (keep && remembered(c, k, token, len, h, claims)) {
		*reason = "valid";
		keyset_release(k);
		return CRAFT_OK;
	}
	int rc = craft_jwt_verify(k->jwks, token, len, &c->o.verify, claims, reason);
	if (rc == CRAFT_OK && keep)
		remember(c, k, token, len, h, claims);
	keyset_release(k);
	return rc;
}

/* An unknown kid (or no set yet): fetch once, unless a fetch just happened;
 * callers arriving meanwhile wait on the fetch lock and reuse its result. */
static void refetch(craft_jwks_cache *c, const craft_span *parent, uint64_t asked_at)
{
	pthread_mutex_lock(&c->fetch_lock);
	pthread_mutex_lock(&c->lock);
	bool fresh = c->last_fetch_ms >= asked_at ||
		     craft_clock_ms() - c->last_fetch_ms < c->o.min_refetch_ms;
	if (!fresh)
		c->kid_fetches++;
	pthread_mutex_unlock(&c->lock);
	if (!fresh)
		fetch(c, parent);
	pthread_mutex_unlock(&c->fetch_lock);
}

int craft_jwks_cache_verify(craft_jwks_cache *c, const craft_span *parent, const char *token,
			    size_t len, struct craft_jwt_claims *claims, const char **reason)
{
	const char *why = NULL;
	uint64_t asked_at = craft_clock_ms();
	int rc = verify_with(c, token, len, claims, &why);
	if (rc == CRAFT_ENOTFOUND || rc == CRAFT_EUNAVAIL) {
		refetch(c, parent, asked_at);
		rc = verify_with(c, token, len, claims, &why);
	}
	if (reason)
		*reason = why;
	return rc;
}

void craft_jwks_cache_stats(craft_jwks_cache *c, struct craft_jwks_cache_stats *out)
{
	pthread_mutex_lock(&c->lock);
	out->keys = c->current ? (unsigned)craft_jwks_count(c->current->jwks) : 0;
	out->fetches = c->fetches;
	out->fetch_failures = c->failures;
	out->unknown_kid_fetches = c->kid_fetches;
	pthread_mutex_unlock(&c->lock);
	out->verified_hits = atomic_load_explicit(&c->verified_hits, memory_order_relaxed);
}
