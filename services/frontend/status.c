/* status.c - the prober behind the status dashboard (see status.h). */
#include "status.h"

#include "craft/clock.h"
#include "craft/common.h"
#include "craft/log.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int64_t wall_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* view.up as bits (lock held). */
static void publish_bits(struct status_board *b)
{
	unsigned bits = 0;
	for (int i = 0; i < BACKEND_COUNT; i++)
		bits |= b->view.up[i] ? 1u << i : 0u;
	atomic_store_explicit(&b->up_bits, bits, memory_order_release);
}

/* One round: every backend's health at once. */
static void probe(struct status_board *b)
{
	craft_arena *a = craft_arena_new(0);
	struct craft_httpc_request reqs[BACKEND_COUNT];
	struct craft_httpc_response resps[BACKEND_COUNT];
	for (int i = 0; i < BACKEND_COUNT; i++)
		reqs[i] = (struct craft_httpc_request){
		    .method = CRAFT_HTTPC_GET,
		    .url = craft_arena_sprintf(a, "%s%s", b->base[i], backend_table[i].health),
		    .timeout_ms = b->timeout_ms,
		    .max_body = 64 * 1024};
	craft_httpc_multi(b->http, a, NULL, reqs, resps, BACKEND_COUNT);
	bool ups[BACKEND_COUNT];
	for (int i = 0; i < BACKEND_COUNT; i++) {
		json_t *body = resps[i].result == CRAFT_OK && resps[i].body_len
				   ? json_loadb(resps[i].body, resps[i].body_len, 0, NULL)
				   : NULL;
		ups[i] = backend_up(resps[i].result, resps[i].status, body);
		json_decref(body);
	}
	pthread_mutex_lock(&b->mu);
	bool changed = !b->view.checked;
	for (int i = 0; i < BACKEND_COUNT; i++) {
		changed = changed || ups[i] != b->view.up[i];
		b->view.up[i] = ups[i];
	}
	publish_bits(b);
	b->view.checked = true;
	b->view.checked_ms = wall_ms();
	b->view.generation++;
	pthread_mutex_unlock(&b->mu);
	if (changed)
		craft_log(CRAFT_LOG_INFO, NULL, "backend status", "{s:b, s:b, s:b, s:b}",
			  backend_table[0].name, ups[0], backend_table[1].name, ups[1],
			  backend_table[2].name, ups[2], backend_table[3].name, ups[3]);
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

int status_start(struct status_board *b, craft_httpc *http, const char *const base[BACKEND_COUNT],
		 unsigned interval_ms, unsigned timeout_ms)
{
	memset(b, 0, sizeof(*b));
	b->http = http;
	b->interval_ms = interval_ms;
	b->timeout_ms = timeout_ms;
	for (int i = 0; i < BACKEND_COUNT; i++)
		b->base[i] = craft_xstrdup(base[i]);
	for (int i = 0; i < BACKEND_COUNT; i++)
		for (int k = 0; k < BACKEND_COUNT; k++)
			if (strcmp(base[i], base[k]) == 0)
				b->same_base[i] |= 1u << k;
	atomic_init(&b->up_bits, 0);
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
	for (int i = 0; i < BACKEND_COUNT; i++) {
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

void status_observe(struct status_board *b, enum backend_id backend, bool up)
{
	unsigned mask = b->same_base[backend];
	unsigned want = up ? mask : 0u;
	if ((atomic_load_explicit(&b->up_bits, memory_order_acquire) & mask) == want)
		return; /* nothing to change: the common case, without the lock */
	pthread_mutex_lock(&b->mu);
	bool changed = false;
	for (int i = 0; i < BACKEND_COUNT; i++) {
		if ((mask & (1u << i)) && b->view.up[i] != up) {
			b->view.up[i] = up;
			changed = true;
		}
	}
	if (changed) {
		b->view.generation++;
		publish_bits(b);
	}
	pthread_mutex_unlock(&b->mu);
}
