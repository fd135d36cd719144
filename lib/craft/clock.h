/* clock.h - the monotonic clock, deadlines and condition variables on it.
 *
 * Every duration, timeout and background wait in the tree is measured on
 * CLOCK_MONOTONIC, so a change of the wall clock (NTP step, manual set)
 * neither stretches nor skips it. Wall-clock time is only for what is shown
 * or exported as a date (log timestamps, span start times, JWT claims).
 */
#ifndef CRAFT_CLOCK_H
#define CRAFT_CLOCK_H

#include <pthread.h>
#include <stdint.h>
#include <time.h>

/* Monotonic time in nanoseconds / milliseconds since an arbitrary start. */
uint64_t craft_clock_ns(void);
uint64_t craft_clock_ms(void);

/* The CLOCK_MONOTONIC instant `ms` milliseconds from now, as the absolute
 * deadline of pthread_cond_timedwait() on a craft_cond_init_monotonic()
 * condition variable. */
struct timespec craft_deadline_ms(uint64_t ms);

/* Initialise a condition variable whose timed waits run on CLOCK_MONOTONIC
 * (deadlines from craft_deadline_ms()). */
void craft_cond_init_monotonic(pthread_cond_t *cond);

#endif
