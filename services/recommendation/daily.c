#include "daily.h"

#include "craft/clock.h"
#include "craft/common.h"
#include "craft/log.h"

#include "render.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

long reco_day_number(time_t now)
{
	long t = (long)now;
	return t >= 0 ? t / 86400 : -((-t + 86399) / 86400);
}

void reco_day_text(long day, char *out, size_t out_len)
{
	time_t t = (time_t)day * 86400;
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(out, out_len, "%Y-%m-%d", &tm);
}

long reco_daily_index(long day)
{
	/* day < 2^31 for the next few million years: no overflow in 64 bits. */
	return day * DAILY_STRIDE;
}

/* FNV-1a, 64 bits: tells contents apart, nothing more (not a security hash). */
static uint64_t fnv1a64(const char *data, size_t len)
{
	uint64_t h = 14695981039346656037u;
	for (size_t i = 0; i < len; i++) {
		h ^= (unsigned char)data[i];
		h *= 1099511628211u;
	}
	return h;
}

void reco_daily_etag(const struct reco_product *p, const char *body, size_t body_len,
		     char out[RECO_ETAG_MAX])
{
	snprintf(out, RECO_ETAG_MAX, "\"o%ld-v%lld-%016" PRIx64 "\"", p->id, p->version,
		 fnv1a64(body, body_len));
}

/* ---- answers ---- */

static struct reco_daily_answer *answer_new(int result, long day)
{
	struct reco_daily_answer *a = craft_xcalloc(1, sizeof(*a));
	atomic_init(&a->refs, 1);
	a->result = result;
	a->day = day;
	return a;
}

static struct reco_daily_answer *answer_of(long day, const struct reco_product *p)
{
	struct reco_daily_answer *a = answer_new(CRAFT_OK, day);
	size_t ln = strlen(p->name) + 1, ld = strlen(p->description) + 1,
	       li = strlen(p->image_url) + 1;
	a->strings = craft_xmalloc(ln + ld + li);
	memcpy(a->strings, p->name, ln);
	memcpy(a->strings + ln, p->description, ld);
	memcpy(a->strings + ln + ld, p->image_url, li);
	a->product = (struct reco_product){.id = p->id,
					   .name = a->strings,
					   .description = a->strings + ln,
					   .image_url = a->strings + ln + ld,
					   .votes = p->votes,
					   .version = p->version};
	a->body = reco_json_text(reco_product_json(&a->product), &a->body_len);
	reco_daily_etag(&a->product, a->body, a->body_len, a->etag);
	return a;
}

static struct reco_daily_answer *answer_ref(struct reco_daily_answer *a)
{
	atomic_fetch_add_explicit(&a->refs, 1, memory_order_relaxed);
	return a;
}

void reco_daily_answer_release(struct reco_daily_answer *a)
{
	if (!a || atomic_fetch_sub_explicit(&a->refs, 1, memory_order_acq_rel) != 1)
		return;
	free(a->strings);
	free(a->body);
	free(a);
}

/* Does the answer still say what the row says? Every field is compared, not
 * only the version, so a writer that forgets the version cannot leave a
 * stale answer behind. */
static bool answer_matches(const struct reco_daily_answer *a, long day,
			   const struct reco_product *p)
{
	return a->day == day && a->product.id == p->id && a->product.version == p->version &&
	       a->product.votes == p->votes && strcmp(a->product.name, p->name) == 0 &&
	       strcmp(a->product.description, p->description) == 0 &&
	       strcmp(a->product.image_url, p->image_url) == 0;
}

/* ---- the reader ---- */

/* The answer as of now: re-read the remembered pick, or pick again on a new
 * day or when the product is gone. Runs on the reader thread only. */
static struct reco_daily_answer *read_answer(struct reco_daily *d, const craft_span *span)
{
	long day = reco_day_number(time(NULL));
	craft_arena *arena = craft_arena_new(0);
	struct reco_daily_answer *cur = d->current;
	struct reco_product p;
	int rc = CRAFT_ENOTFOUND;
	if (cur && cur->result == CRAFT_OK && cur->day == day)
		rc = reco_store_get(d->pg, arena, span, cur->product.id, &p);
	if (rc == CRAFT_ENOTFOUND) { /* new day, nothing yet, or the product was deleted */
		char date[16];
		reco_day_text(day, date, sizeof(date));
		rc = reco_store_daily(d->pg, arena, span, date, reco_daily_index(day), &p);
		if (rc == CRAFT_ENOTFOUND) /* lost a race with a concurrent pick or delete */
			rc = reco_store_daily(d->pg, arena, span, date, reco_daily_index(day), &p);
	}
	struct reco_daily_answer *a;
	if (rc != CRAFT_OK) {
		a = answer_new(rc, day); /* errors and "no origami" are never kept */
	} else if (cur && answer_matches(cur, day, &p)) {
		a = answer_ref(cur);
	} else {
		a = answer_of(day, &p);
		reco_daily_answer_release(d->current);
		d->current = answer_ref(a);
	}
	craft_arena_free(arena);
	return a;
}

static uint64_t monotonic_us(void)
{
	return craft_clock_ns() / 1000u;
}

/* Sleep until `interval_us` after the previous read started, so requests
 * arriving meanwhile join the next read. */
static void pace(const struct reco_daily *d, uint64_t last_start)
{
	uint64_t now = monotonic_us();
	if (d->interval_us == 0 || now - last_start >= d->interval_us)
		return;
	uint64_t left = d->interval_us - (now - last_start);
	struct timespec ts = {.tv_sec = (time_t)(left / 1000000u),
			      .tv_nsec = (long)(left % 1000000u) * 1000};
	nanosleep(&ts, NULL);
}

static void *reader_main(void *arg)
{
	struct reco_daily *d = arg;
	uint64_t last_start = 0;
	pthread_mutex_lock(&d->lock);
	for (;;) {
		/* Requests that came while the last read ran: under load, so
		 * gather more before the next read. Otherwise read at once. */
		bool loaded = d->head != NULL;
		while (!d->head && !d->stopping)
			pthread_cond_wait(&d->wake, &d->lock);
		if (!d->head)
			break; /* stopping with nobody waiting */
		if (loaded && !d->stopping) {
			pthread_mutex_unlock(&d->lock);
			pace(d, last_start);
			pthread_mutex_lock(&d->lock);
		}
		last_start = monotonic_us();
		/* Everyone queued so far was queued before this read starts. */
		struct reco_daily_waiter *batch = d->head;
		d->head = d->tail = NULL;
		pthread_mutex_unlock(&d->lock);

		struct reco_daily_answer *a = read_answer(d, batch->span);
		for (struct reco_daily_waiter *w = batch, *next; w; w = next) {
			next = w->next; /* w may be freed by done() */
			w->done(w->arg, answer_ref(a));
		}
		reco_daily_answer_release(a);
		pthread_mutex_lock(&d->lock);
	}
	pthread_mutex_unlock(&d->lock);
	return NULL;
}

int reco_daily_start(struct reco_daily *d, craft_pg_pool *pg, unsigned interval_us)
{
	d->pg = pg;
	d->interval_us = interval_us;
	d->head = d->tail = NULL;
	d->stopping = false;
	d->current = NULL;
	pthread_mutex_init(&d->lock, NULL);
	pthread_cond_init(&d->wake, NULL);
	if (pthread_create(&d->thread, NULL, reader_main, d) != 0) {
		pthread_cond_destroy(&d->wake);
		pthread_mutex_destroy(&d->lock);
		return CRAFT_EIO;
	}
	d->started = true;
	return CRAFT_OK;
}

void reco_daily_stop(struct reco_daily *d)
{
	if (!d->started)
		return;
	pthread_mutex_lock(&d->lock);
	d->stopping = true;
	pthread_cond_signal(&d->wake);
	pthread_mutex_unlock(&d->lock);
	pthread_join(d->thread, NULL);
	reco_daily_answer_release(d->current);
	d->current = NULL;
	pthread_cond_destroy(&d->wake);
	pthread_mutex_destroy(&d->lock);
	d->started = false;
}

void reco_daily_wait(struct reco_daily *d, struct reco_daily_waiter *w)
{
	w->next = NULL;
	pthread_mutex_lock(&d->lock);
	bool idle = d->head == NULL;
	if (d->tail)
		d->tail->next = w;
	else
		d->head = w;
	d->tail = w;
	if (idle)
		pthread_cond_signal(&d->wake);
	pthread_mutex_unlock(&d->lock);
}
