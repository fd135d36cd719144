/* workq.h - a fixed pool of worker threads fed by a bounded queue.
 *
 * For CPU-heavy or blocking work that must not occupy the HTTP threads
 * (bcrypt): a handler suspends its request (craft_req_suspend), submits a
 * job, and the job resumes the request when done. A full queue is refused
 * at once rather than growing, so overload turns into quick 503s.
 */
#ifndef CRAFT_WORKQ_H
#define CRAFT_WORKQ_H

#include <stddef.h>

typedef struct craft_workq craft_workq;

typedef void (*craft_work_fn)(void *arg);

/* Start `threads` workers (>= 1) with room for `max_queue` waiting jobs
 * (>= 1). Threads inherit the caller's signal mask. Returns 0 and *out, or
 * CRAFT_EINVAL for bad sizes, CRAFT_EIO when a thread cannot start. */
int craft_workq_new(unsigned threads, unsigned max_queue, craft_workq **out);

/* Queue fn(arg). Returns 0, CRAFT_ETOOBIG when the queue is full, or
 * CRAFT_EUNAVAIL once the queue is stopping. fn runs on a worker thread. */
int craft_workq_submit(craft_workq *q, craft_work_fn fn, void *arg);

/* Run every job already queued, then stop and join the workers and free the
 * queue. NULL is fine. */
void craft_workq_free(craft_workq *q);

struct craft_workq_stats {
	unsigned threads, queued, running, max_queue;
	unsigned long completed, rejected;
};

/* A consistent snapshot of the figures (for /metrics). */
void craft_workq_stats(craft_workq *q, struct craft_workq_stats *out);

#endif
