/* status.h - the backend status dashboard, kept current by one prober per
 * frontend process instead of a probe per page view.
 *
 * The prober asks each backend's /health every interval (all four at once,
 * each with a short timeout) on a thread of its own. Pages and
 * /api/service-status read the latest result and when it was taken. A real
 * call that finds a backend unreachable marks it down at once, so the board
 * is honest about a backend that just went down; only a probe brings it
 * back up.
 */
#ifndef FRONTEND_STATUS_H
#define FRONTEND_STATUS_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "craft/httpc.h"

enum status_backend {
	STATUS_CATALOGUE = 0,
	STATUS_VOTING,
	STATUS_RECOMMENDATION,
	STATUS_AUTHENTICATION,
	STATUS_COUNT
};

/* "Catalogue", "Voting", "Recommendation", "Authentication". */
extern const char *const status_names[STATUS_COUNT];

struct status_view {
	bool up[STATUS_COUNT];
	bool checked;        /* false until the first probe round finished */
	int64_t checked_ms;  /* wall clock of that round (Unix ms) */
	uint64_t generation; /* changes whenever anything above does */
};

struct status_board {
	craft_httpc *http;
	char *base[STATUS_COUNT]; /* base URLs, no trailing / */
	unsigned interval_ms, timeout_ms;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool stopping, started;
	pthread_t thread;
	struct status_view view;
};

/* Start probing `base[i]`/health every interval_ms. 0, or CRAFT_EIO. */
int status_start(struct status_board *b, craft_httpc *http, const char *const base[STATUS_COUNT],
		 unsigned interval_ms, unsigned timeout_ms);
void status_stop(struct status_board *b);

/* A copy of the latest view. */
void status_read(struct status_board *b, struct status_view *out);

/* A real call to `base` could not reach it: every backend at that base is
 * down until the next probe says otherwise. */
void status_report_down(struct status_board *b, const char *base);

#endif
