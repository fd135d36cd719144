/* status.c - the prober behind the status dashboard (see status.h). */
#include "status.h"

#include "craft/clock.h"
#include "craft/common.h"
#include "craft/log.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

const char *const status_names[STATUS_COUNT] = {"Catalogue", "Voting", "Recommendation",
						"Authentication"};

static int64_t wall_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* One round: every backend's /health at once. */
static void probe(struct status_board *b)
{
	craft_arena *a = craft_arena_new(0);
	struct craft_httpc_request reqs[STATUS_COUNT];
	struct craft_httpc_response resps[STATUS_COUNT];
	for (int i = 0; i < STATUS_COUNT; i++)
		reqs[i] = (struct craft_httpc_request){
		    .method = CRAFT_HTTPC_GET,
		    .url = craft_arena_sprintf(a, "%s/health", b->base[i]),
		    .timeout_ms = b->timeout_ms,
		    .max_body = 64 * 1024};
	craft_httpc_multi(b->http, a, NULL, reqs, resps, STATUS_COUNT);
	pthread_mutex_lock(&b->mu);
	bool changed = !b->view.checked;
	for (int i = 0; i < STATUS_COUNT; i++) {
		bool up =
		    resps[i].result == CRAFT_OK && resps[i].status >= 200 && resps[i].status < 300;
		changed = changed || up != b->view.up[i];
		b->view.up[i] = up;
	}
	b->view.checked = true;
	b->view.checked_ms = wall_ms();
	b->view.generation++;
	pthread_mutex_unlock(&b->mu);
	if (changed)
		craft_log(CRAFT_LOG_INFO, NULL, "backend status", "{s:b, s:b, s:b, s:b}",
			  status_names[0], b->view.up[0], status_names[1], b->view.up[1],
			  status_names[2], b->view.up[2], status_names[3], b->view.up[3]);
	craft_arena_free(a);
}

static void *prober(void *arg)
{
	struct status_board *b = arg;
	pthread_mutex_lock(&b->mu);
	while (!b->stopping) {
		pthread_mutex_unlock(&b->mu);
		probe(b);
		struct timespec until = craft_deadline_ms(b->interval_ms);
		pthread_mutex_lock(&b->mu);
		while (!b->stopping && pthread_cond_timedwait(&b->cv, &b->mu, &until) != ETIMEDOUT)
			;
	}
	pthread_mutex_unlock(&b->mu);
	return NULL;
}

int status_start(struct status_board *b, craft_httpc *http, const char *const base[STATUS_COUNT],
		 unsigned interval_ms, unsigned timeout_ms)
{
	memset(b, 0, sizeof(*b));
	b->http = http;
	b->interval_ms = interval_ms;
	b->timeout_ms = timeout_ms;
	for (int i = 0; i < STATUS_COUNT; i++)
		b->base[i] = craft_xstrdup(base[i]);
	pthread_mutex_init(&b->mu, NULL);
	craft_cond_init_monotonic(&b->cv);
	if (pthread_create(&b->thread, NULL, prober, b) != 0)
		return CRAFT_EIO;
	b->started = true;
	return CRAFT_OK;
}

void status_stop(struct status_board *b)
{
	if (b->started) {
		pthread_mutex_lock(&b->mu);
		b->stopping = true;
		pthread_cond_signal(&b->cv);
		pthread_mutex_unlock(&b->mu);
		pthread_join(b->thread, NULL);
		b->started = false;
		pthread_cond_destroy(&b->cv);
		pthread_mutex_destroy(&b->mu);
	}
	for (int i = 0; i < STATUS_COUNT; i++) {
		free(b->base[i]);
		b->base[i] = NULL;
	}
}

void status_read(struct status_board *b, struct status_view *out)
{
	pthread_mutex_lock(&b->mu);
	*out = b->view;
	pthread_mutex_unlock(&b->mu);
}

void status_report_down(struct status_board *b, const char *base)
{
	pthread_mutex_lock(&b->mu);
	bool changed = false;
	for (int i = 0; i < STATUS_COUNT; i++) {
		if (b->base[i] && strcmp(b->base[i], base) == 0 && b->view.up[i]) {
			b->view.up[i] = false;
			changed = true;
		}
	}
	if (changed)
		b->view.generation++;
	pthread_mutex_unlock(&b->mu);
}
