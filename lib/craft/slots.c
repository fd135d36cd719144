#include "slots.h"

#include "clock.h"
#include "common.h"

#include <errno.h>
#include <stdlib.h>

void craft_slots_init(struct craft_slots *s, unsigned size, unsigned acquire_timeout_ms)
{
	pthread_mutex_init(&s->mu, NULL);
	craft_cond_init_monotonic(&s->cv);
	s->slot = craft_xcalloc(size, sizeof(*s->slot));
	s->size = size;
	s->in_use = s->waiting = 0;
	s->acquire_timeout_ms = acquire_timeout_ms;
	s->acquired = s->acquire_timeouts = 0;
}

void craft_slots_cleanup(struct craft_slots *s)
{
	free(s->slot);
	s->slot = NULL;
	pthread_cond_destroy(&s->cv);
	pthread_mutex_destroy(&s->mu);
}

/* A free slot, an open one when there is one; -1 when all are lent. */
static long free_slot(const struct craft_slots *s)
{
	long any = -1;
	for (unsigned i = 0; i < s->size; i++) {
		if (s->slot[i].in_use)
			continue;
		if (s->slot[i].open)
			return i;
		if (any < 0)
			any = i;
	}
	return any;
}

int craft_slots_take(struct craft_slots *s, unsigned *index)
{
	struct timespec deadline = craft_deadline_ms(s->acquire_timeout_ms);
	pthread_mutex_lock(&s->mu);
	long i;
	while ((i = free_slot(s)) < 0) {
		s->waiting++;
		int rc = pthread_cond_timedwait(&s->cv, &s->mu, &deadline);
		s->waiting--;
		if (rc == ETIMEDOUT) {
			i = free_slot(s);
			break;
		}
	}
	if (i >= 0) {
		s->slot[i].in_use = true;
		s->in_use++;
		s->acquired++;
		*index = (unsigned)i;
	} else {
		s->acquire_timeouts++;
	}
	pthread_mutex_unlock(&s->mu);
	return i >= 0 ? CRAFT_OK : CRAFT_EUNAVAIL;
}

void craft_slots_give(struct craft_slots *s, unsigned index)
{
	pthread_mutex_lock(&s->mu);
	s->slot[index].in_use = false;
	s->in_use--;
	pthread_cond_signal(&s->cv);
	pthread_mutex_unlock(&s->mu);
}

void craft_slots_set_open(struct craft_slots *s, unsigned index, bool open)
{
	s->slot[index].open = open;
}

void craft_slots_stats(struct craft_slots *s, struct craft_slots_stats *out)
{
	pthread_mutex_lock(&s->mu);
	out->size = s->size;
	out->in_use = s->in_use;
	out->waiting = s->waiting;
	out->acquired = s->acquired;
	out->acquire_timeouts = s->acquire_timeouts;
	pthread_mutex_unlock(&s->mu);
}
