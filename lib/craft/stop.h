/* stop.h - a stop request that background threads can wait on.
 *
 * A thread that retries or repeats work sleeps with craft_stop_wait()
 * instead of sleep(): the wait ends early when the owner asks it to stop,
 * and it runs on the monotonic clock, so a change of the wall clock neither
 * stretches nor skips it. */
#ifndef CRAFT_STOP_H
#define CRAFT_STOP_H

#include <pthread.h>
#include <stdbool.h>

#include "clock.h" /* craft_cond_init_monotonic() */

struct craft_stop {
	pthread_mutex_t lock;
	pthread_cond_t cond; /* on CLOCK_MONOTONIC */
	bool requested;
};

/* Prepare a stop the caller owns; free with craft_stop_cleanup(). */
void craft_stop_init(struct craft_stop *stop);
void craft_stop_cleanup(struct craft_stop *stop);

/* Ask every waiter to stop; later waits return at once. Any thread. */
void craft_stop_request(struct craft_stop *stop);

/* Sleep up to `ms` milliseconds. Returns true when a stop was requested
 * (before or during the wait), false when the time ran out. */
bool craft_stop_wait(struct craft_stop *stop, unsigned ms);

#endif
