/* slots.h - the connection slots of a pool (pg.c, redis.c): a fixed number
 * of slots, each lent to one thread at a time, with a bounded wait for a
 * free one.
 *
 * A slot is "open" while its connection is: the holder marks it with
 * craft_slots_set_open() (no lock needed, it owns the slot), and a free open
 * slot is lent before a free closed one, so connections are reused before new
 * ones are made. Waits run on the monotonic clock. Thread-safe.
 */
#ifndef CRAFT_SLOTS_H
#define CRAFT_SLOTS_H

#include <pthread.h>
#include <stdbool.h>

struct craft_slot {
	bool in_use; /* guarded by mu */
	bool open;   /* written by the holder, read under mu while free */
};

struct craft_slots {
	pthread_mutex_t mu; /* also free for the owner's own small state */
	pthread_cond_t cv;  /* on CLOCK_MONOTONIC */
	struct craft_slot *slot;
	unsigned size, in_use, waiting;
	unsigned acquire_timeout_ms;
	unsigned long acquired, acquire_timeouts;
};

struct craft_slots_stats {
	unsigned size, in_use, waiting;
	unsigned long acquired, acquire_timeouts;
};

/* `size` slots (>= 1), all free and closed; a take waits at most
 * acquire_timeout_ms. Aborts on out of memory. */
void craft_slots_init(struct craft_slots *s, unsigned size, unsigned acquire_timeout_ms);
void craft_slots_cleanup(struct craft_slots *s);

/* Lend a free slot, an open one first, waiting for one at most the acquire
 * timeout. Returns 0 and *index, or CRAFT_EUNAVAIL (counted) when none came
 * free in time. */
int craft_slots_take(struct craft_slots *s, unsigned *index);

/* Give slot `index` back and wake one waiter. */
void craft_slots_give(struct craft_slots *s, unsigned index);

/* Whether the held slot's connection is open. */
void craft_slots_set_open(struct craft_slots *s, unsigned index, bool open);

/* A consistent snapshot of the counts. */
void craft_slots_stats(struct craft_slots *s, struct craft_slots_stats *out);

#endif
