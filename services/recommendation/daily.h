/* daily.h - the origami of the day.
 *
 * The pick depends only on the UTC date and the catalogue: day number d
 * (days since 1970-01-01 UTC) selects position (d * DAILY_STRIDE) mod n in id
 * order. Every caller and every replica computes the same pick for a day,
 * consecutive days differ whenever n > 1 (the stride is prime and larger than
 * any plausible catalogue), and nothing is random.
 *
 * The first pick of a day is recorded in PostgreSQL (origami_of_the_day), so
 * replicas started later, or a catalogue changed during the day, cannot make
 * two replicas disagree.
 *
 * Answers are kept ready: the day's product, its JSON and its entity tag are
 * built once per change of the row, not per request. Freshness is never
 * taken on trust: every request waits for a read of the row that *starts
 * after the request was queued*, so a vote committed before a request arrives
 * is always in its answer. Requests queued while a read is running share the
 * next one (one primary-key read serves every request that was waiting when
 * it started), so the database sees one query per batch, not per request.
 * The reads run on a thread of their own; requests wait without holding a
 * server thread (the caller suspends them). Under load (requests arrived
 * while the last read ran) reads start at most once per `interval_us`, so a
 * read serves everything that arrived in that interval: the database sees at
 * most 1/interval reads per second from a replica however many requests
 * come, and a request waits at most one interval plus one read. Otherwise a
 * request is read at once.
 */
#ifndef RECO_DAILY_H
#define RECO_DAILY_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <time.h>

#include "store.h"

#define DAILY_STRIDE 7919L

/* Longest entity tag, quotes and NUL included. */
#define RECO_ETAG_MAX 80

/* An answer: immutable once handed out, shared by reference. */
struct reco_daily_answer {
	atomic_uint refs;
	int result; /* 0, CRAFT_ENOTFOUND (empty catalogue) or a craft_pg error */
	long day;
	struct reco_product product; /* its strings point into `strings` */
	char *strings;
	char etag[RECO_ETAG_MAX]; /* strong, quoted */
	char *body;               /* the product as JSON */
	size_t body_len;
};

/* A request waiting for an answer; lives until `done` has been called. */
struct reco_daily_waiter {
	struct reco_daily_waiter *next;
	const craft_span *span; /* parent of the read's client spans; may be NULL */
	/* Called once on the reader thread with a reference the callee owns
	 * (release it with reco_daily_answer_release()). */
	void (*done)(void *arg, struct reco_daily_answer *answer);
	void *arg;
};

struct reco_daily {
	craft_pg_pool *pg;
	unsigned interval_us; /* least time between the starts of two reads */
	pthread_mutex_t lock;
	pthread_cond_t wake;
	struct reco_daily_waiter *head, *tail; /* queued since the last read started */
	bool stopping;
	bool started;
	pthread_t thread;
	struct reco_daily_answer *current; /* reader thread only */
};

/* Start the reader thread, reading through `pg` at most once per
 * `interval_us` (0: back to back). Returns 0, or CRAFT_EIO when the thread
 * cannot start. */
int reco_daily_start(struct reco_daily *d, craft_pg_pool *pg, unsigned interval_us);

/* Answer every queued request, stop the reader thread, free the cache.
 * Call after the server has stopped taking requests. */
void reco_daily_stop(struct reco_daily *d);

/* Queue `w`; w->done runs on the reader thread after a read that started
 * after this call. The number of waiters is bounded by the server's
 * connection limit (one per suspended request). */
void reco_daily_wait(struct reco_daily *d, struct reco_daily_waiter *w);

/* Drop a reference. NULL is fine. */
void reco_daily_answer_release(struct reco_daily_answer *a);

/* Days since the epoch for a UTC time. */
long reco_day_number(time_t now);

/* "YYYY-MM-DD" of a day number (out_len >= 11). */
void reco_day_text(long day, char *out, size_t out_len);

/* The position in id order picked for `day` (before taking it modulo n). */
long reco_daily_index(long day);

/* The strong entity tag of a product whose JSON is `body`:
 * "o<id>-v<version>-<64-bit hash of body in hex>" (quoted). The hash makes it
 * change with the content even when a writer left the version alone. */
void reco_daily_etag(const struct reco_product *p, const char *body, size_t body_len,
		     char out[RECO_ETAG_MAX]);

#endif
