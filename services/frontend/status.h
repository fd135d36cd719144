/* status.h - the backend status dashboard, kept current by one prober per
 * frontend process instead of a probe per page view.
 *
 * The prober asks each backend of gateway.h's table for its health path
 * every interval (all four at once, each with a short timeout) on a thread of
 * its own. Real calls (the gateway's and the revalidated catalogue and
 * origami of the day) tell the board what their answers showed, so the board
 * is honest about a backend that just went down or came back. Every answer
 * is judged by the one rule, backend_up(); pages and /api/service-status
 * read the same board, and the page says when the last probe was taken.
 */
#ifndef FRONTEND_STATUS_H
#define FRONTEND_STATUS_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "craft/httpc.h"

#include "gateway.h"

struct status_view {
	bool up[BACKEND_COUNT];
	bool checked;        /* false until the first probe round finished */
	int64_t checked_ms;  /* wall clock of that round (Unix ms) */
	uint64_t generation; /* changes whenever anything above does */
};

struct status_board {
	craft_httpc *http;
	char *base[BACKEND_COUNT];         /* base URLs, no trailing / */
	unsigned same_base[BACKEND_COUNT]; /* bit per backend behind the same base URL */
	atomic_uint up_bits;               /* view.up as bits, for observers' fast path */
	unsigned interval_ms, timeout_ms;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool stopping, started;
	pthread_t thread;
	struct status_view view;
};

/* Start probing `base[i]` + backend_table[i].health every interval_ms. 0,
 * or CRAFT_EIO. */
int status_start(struct status_board *b, craft_httpc *http, const char *const base[BACKEND_COUNT],
		 unsigned interval_ms, unsigned timeout_ms);
void status_stop(struct status_board *b);

/* A copy of the latest view. */
void status_read(struct status_board *b, struct status_view *out);

/* A real answer of `backend` showed it `up` (by backend_up()): every
 * backend behind the same base URL is marked so until the next probe or
 * answer says otherwise. Cheap when nothing changes (no lock). */
void status_observe(struct status_board *b, enum backend_id backend, bool up);

#endif
