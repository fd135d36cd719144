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
 * two replicas disagree. The chosen id is also remembered per process for the
 * day, so a request costs one primary-key read (fresh vote count).
 */
#ifndef RECO_DAILY_H
#define RECO_DAILY_H

#include <pthread.h>
#include <time.h>

#include "store.h"

#define DAILY_STRIDE 7919L

struct reco_daily {
	pthread_mutex_t lock;
	long day; /* day number of the remembered pick, -1 for none */
	long id;
};

void reco_daily_init(struct reco_daily *d);
void reco_daily_cleanup(struct reco_daily *d);

/* Days since the epoch for a UTC time. */
long reco_day_number(time_t now);

/* "YYYY-MM-DD" of a day number (out_len >= 11). */
void reco_day_text(long day, char *out, size_t out_len);

/* The position in id order picked for `day` (before taking it modulo n). */
long reco_daily_index(long day);

/* The origami of the day at `now`. Returns 0, CRAFT_ENOTFOUND for an empty
 * catalogue, or a craft_pg error. */
int reco_daily_get(struct reco_daily *d, craft_pg_pool *pg, craft_arena *arena,
		   const craft_span *span, time_t now, struct reco_product *out);

#endif
