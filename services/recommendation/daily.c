#include "daily.h"

#include "craft/common.h"

void reco_daily_init(struct reco_daily *d)
{
	pthread_mutex_init(&d->lock, NULL);
	d->day = -1;
	d->id = 0;
}

void reco_daily_cleanup(struct reco_daily *d)
{
	pthread_mutex_destroy(&d->lock);
}

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

int reco_daily_get(struct reco_daily *d, craft_pg_pool *pg, craft_arena *arena,
		   const craft_span *span, time_t now, struct reco_product *out)
{
	long day = reco_day_number(now);
	pthread_mutex_lock(&d->lock);
	long known_day = d->day, id = d->id;
	pthread_mutex_unlock(&d->lock);

	if (known_day == day) {
		int rc = reco_store_get(pg, arena, span, id, out);
		if (rc != CRAFT_ENOTFOUND)
			return rc;
		/* the product was deleted during the day: pick again */
	}
	char date[16];
	reco_day_text(day, date, sizeof(date));
	int rc = reco_store_daily(pg, arena, span, date, reco_daily_index(day), out);
	if (rc == CRAFT_ENOTFOUND) /* lost a race with a concurrent pick or delete */
		rc = reco_store_daily(pg, arena, span, date, reco_daily_index(day), out);
	if (rc)
		return rc;
	pthread_mutex_lock(&d->lock);
	d->day = day;
	d->id = out->id;
	pthread_mutex_unlock(&d->lock);
	return CRAFT_OK;
}
