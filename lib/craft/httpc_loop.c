/* httpc_loop.c - asynchronous calls: one thread drives every transfer with
 * libcurl's multi-socket API on epoll, so callers never wait on the network
 * (see httpc.h and docs/httpc.md).
 *
 * Callers prepare their transfers on their own thread (arena work), queue
 * the batch and wake the loop through an eventfd. The loop owns the multi
 * handle, its connection cache and a free list of easy handles; it adds the
 * transfers, dispatches socket readiness and curl's timer, and when the last
 * transfer of a batch has finished it calls the batch's `done`.
 */
#include "clock.h"
#include "httpc.h"
#include "httpc_internal.h"

#include "common.h"
#include "log.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#define MAX_EVENTS        64
#define MAX_HOST_CONNS    64L  /* per backend: more transfers wait inside curl */
#define MAX_CACHED_CONNS  128L /* kept-alive connections of the loop */
#define MAX_FREE_EASY     256u /* reset easy handles kept for reuse */
#define DEFAULT_MAX_QUEUE 4096u

struct batch {
	struct transfer *ts;
	size_t n, left;
	craft_httpc_done_fn done;
	void *arg;
	struct batch *next;                      /* in the submission queue */
	struct batch *active_prev, *active_next; /* started, not yet done */
};

struct easy_slot {
	CURL *easy;
	struct easy_slot *next;
};

struct httpc_loop {
	craft_httpc *client;
	pthread_t thread;
	int epfd, wakefd;
	CURLM *multi;
	long timer_ms; /* curl's wish: -1 none, else ms from timer_set_ms */
	uint64_t timer_set_ms;

	pthread_mutex_t mu; /* guards the queue and `stopping` */
	struct batch *head, *tail;
	unsigned queued, max_queue;
	bool stopping;

	struct batch *active; /* loop thread only, as below */
	CURL **free_easy;
	unsigned nfree;
};

/* ---- curl's callbacks (loop thread) ---- */

static int on_socket(CURL *easy, curl_socket_t s, int what, void *userp, void *socketp)
{
	(void)easy;
	(void)socketp;
	struct httpc_loop *loop = userp;
	if (what == CURL_POLL_REMOVE) {
		epoll_ctl(loop->epfd, EPOLL_CTL_DEL, s, NULL);
		return 0;
	}
	struct epoll_event ev = {.data.fd = s};
	if (what & CURL_POLL_IN)
		ev.events |= EPOLLIN;
	if (what & CURL_POLL_OUT)
		ev.events |= EPOLLOUT;
	if (epoll_ctl(loop->epfd, EPOLL_CTL_MOD, s, &ev) != 0 && errno == ENOENT)
		epoll_ctl(loop->epfd, EPOLL_CTL_ADD, s, &ev);
	return 0;
}

static int on_timer(CURLM *multi, long timeout_ms, void *userp)
{
	(void)multi;
	struct httpc_loop *loop = userp;
	loop->timer_ms = timeout_ms;
	loop->timer_set_ms = craft_clock_ms();
	return 0;
}

/* ---- easy handles ---- */

static CURL *easy_take(struct httpc_loop *loop)
{
	if (loop->nfree)
		return loop->free_easy[--loop->nfree];
	CURL *e = curl_easy_init();
	if (!e)
		craft_oom(0);
	return e;
}

static void easy_give(struct httpc_loop *loop, CURL *e)
{
	if (loop->nfree < MAX_FREE_EASY)
		loop->free_easy[loop->nfree++] = e;
	else
		curl_easy_cleanup(e);
}

/* ---- batches (loop thread) ---- */

/* A transfer of `b` is over: when it was the last, release and call done. */
static void batch_step(struct httpc_loop *loop, struct batch *b)
{
	if (--b->left > 0)
		return;
	if (b->active_prev)
		b->active_prev->active_next = b->active_next;
	else if (loop->active == b)
		loop->active = b->active_next;
	if (b->active_next)
		b->active_next->active_prev = b->active_prev;
	for (size_t i = 0; i < b->n; i++) {
		struct transfer *t = &b->ts[i];
		if (!t->easy)
			continue;
		httpc_transfer_release(t, loop->multi);
		easy_give(loop, t->easy);
		t->easy = NULL;
	}
	craft_httpc_done_fn done = b->done;
	void *arg = b->arg;
	free(b);
	done(arg); /* may free the arena that held the transfers */
}

static void start_batch(struct httpc_loop *loop, struct batch *b)
{
	size_t pending = b->left;
	b->active_next = loop->active;
	if (loop->active) /* NOLINTNEXTLINE(clang-analyzer-unix.Malloc): done ones are unlinked */
		loop->active->active_prev = b;
	loop->active = b;
	for (size_t i = 0; i < b->n; i++) {
		struct transfer *t = &b->ts[i];
		if (t->done)
			continue; /* refused while being prepared */
		t->easy = easy_take(loop);
		t->batch = b;
		httpc_transfer_apply(t);
		if (curl_multi_add_handle(loop->multi, t->easy) == CURLM_OK) {
			t->added = true;
			continue;
		}
		httpc_transfer_refuse(t, CRAFT_EINTERNAL, NULL);
		pending--;
	}
	b->left = pending + 1; /* +1: this function's own hold */
	batch_step(loop, b);
}

static void collect_done(struct httpc_loop *loop)
{
	CURLMsg *msg;
	int left;
	while ((msg = curl_multi_info_read(loop->multi, &left))) {
		if (msg->msg != CURLMSG_DONE)
			continue;
		char *priv = NULL;
		curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &priv);
		struct transfer *t = (struct transfer *)priv;
		if (!t || t->done)
			continue;
		httpc_transfer_complete(t, msg->data.result);
		batch_step(loop, t->batch);
	}
}

/* Take the whole queue; true when the loop should stop. */
static bool take_queue(struct httpc_loop *loop, struct batch **out)
{
	uint64_t v;
	while (read(loop->wakefd, &v, sizeof(v)) > 0)
		;
	pthread_mutex_lock(&loop->mu);
	*out = loop->head;
	loop->head = loop->tail = NULL;
	loop->queued = 0;
	bool stopping = loop->stopping;
	pthread_mutex_unlock(&loop->mu);
	return stopping;
}

/* Finish every transfer still running as unavailable (shutdown). */
/* NOLINTBEGIN(clang-analyzer-unix.Malloc): done batches are unlinked before freed */
static void abort_all(struct httpc_loop *loop)
{
	while (loop->active) {
		struct batch *b = loop->active;
		size_t left = b->left;
		/* `left` first: the step that finishes the batch frees b */
		for (size_t i = 0; left > 0 && i < b->n; i++) {
			struct transfer *t = &b->ts[i];
			if (t->done)
				continue;
			httpc_transfer_complete(t, CURLE_COULDNT_CONNECT);
			left--;
			batch_step(loop, b); /* the last one unlinks b */
		}
	}
}
/* NOLINTEND(clang-analyzer-unix.Malloc) */

static int wait_ms(const struct httpc_loop *loop)
{
	if (loop->timer_ms < 0)
		return -1;
	uint64_t due = loop->timer_set_ms + (uint64_t)loop->timer_ms, now = craft_clock_ms();
	return due <= now ? 0 : (int)(due - now);
}

static void *loop_main(void *arg)
{
	struct httpc_loop *loop = arg;
	struct epoll_event events[MAX_EVENTS];
	int running;
	for (;;) {
		int n = epoll_wait(loop->epfd, events, MAX_EVENTS, wait_ms(loop));
		for (int i = 0; i < n; i++) {
			int fd = events[i].data.fd;
			if (fd == loop->wakefd)
				continue; /* handled below */
			int flags = 0;
			if (events[i].events & EPOLLIN)
				flags |= CURL_CSELECT_IN;
			if (events[i].events & EPOLLOUT)
				flags |= CURL_CSELECT_OUT;
			if (events[i].events & (EPOLLERR | EPOLLHUP))
				flags |= CURL_CSELECT_ERR;
			curl_multi_socket_action(loop->multi, fd, flags, &running);
		}
		if (wait_ms(loop) == 0) {
			loop->timer_ms = -1;
			curl_multi_socket_action(loop->multi, CURL_SOCKET_TIMEOUT, 0, &running);
		}
		collect_done(loop);
		struct batch *b = NULL;
		bool stopping = take_queue(loop, &b);
		while (b) {
			struct batch *next = b->next;
			start_batch(loop, b);
			b = next;
		}
		if (stopping)
			break;
	}
	abort_all(loop);
	return NULL;
}

/* ---- public API ---- */

static void loop_release(struct httpc_loop *loop)
{
	if (loop->multi)
		curl_multi_cleanup(loop->multi);
	for (unsigned i = 0; i < loop->nfree; i++)
		curl_easy_cleanup(loop->free_easy[i]);
	free(loop->free_easy);
	if (loop->epfd >= 0)
		close(loop->epfd);
	if (loop->wakefd >= 0)
		close(loop->wakefd);
	pthread_mutex_destroy(&loop->mu);
	free(loop);
}

int craft_httpc_loop_start(craft_httpc *client, unsigned max_queue)
{
	if (client->loop)
		return CRAFT_OK;
	struct httpc_loop *loop = craft_xcalloc(1, sizeof(*loop));
	loop->client = client;
	loop->max_queue = max_queue ? max_queue : DEFAULT_MAX_QUEUE;
	loop->timer_ms = -1;
	loop->free_easy = craft_xcalloc(MAX_FREE_EASY, sizeof(*loop->free_easy));
	pthread_mutex_init(&loop->mu, NULL);
	loop->epfd = epoll_create1(EPOLL_CLOEXEC);
	loop->wakefd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	loop->multi = curl_multi_init();
	struct epoll_event ev = {.events = EPOLLIN, .data.fd = loop->wakefd};
	if (loop->epfd < 0 || loop->wakefd < 0 || !loop->multi ||
	    epoll_ctl(loop->epfd, EPOLL_CTL_ADD, loop->wakefd, &ev) != 0) {
		craft_log(CRAFT_LOG_ERROR, NULL, "cannot set up the http client loop", "{s:s}",
			  "error", strerror(errno));
		loop_release(loop);
		return CRAFT_EIO;
	}
	curl_multi_setopt(loop->multi, CURLMOPT_SOCKETFUNCTION, on_socket);
	curl_multi_setopt(loop->multi, CURLMOPT_SOCKETDATA, loop);
	curl_multi_setopt(loop->multi, CURLMOPT_TIMERFUNCTION, on_timer);
	curl_multi_setopt(loop->multi, CURLMOPT_TIMERDATA, loop);
	curl_multi_setopt(loop->multi, CURLMOPT_MAX_HOST_CONNECTIONS, MAX_HOST_CONNS);
	curl_multi_setopt(loop->multi, CURLMOPT_MAXCONNECTS, MAX_CACHED_CONNS);
	if (pthread_create(&loop->thread, NULL, loop_main, loop) != 0) {
		loop_release(loop);
		return CRAFT_EIO;
	}
	client->loop = loop;
	return CRAFT_OK;
}

void httpc_loop_free(struct httpc_loop *loop)
{
	if (!loop)
		return;
	pthread_mutex_lock(&loop->mu);
	loop->stopping = true;
	pthread_mutex_unlock(&loop->mu);
	uint64_t one = 1;
	if (write(loop->wakefd, &one, sizeof(one)) < 0)
		craft_log(CRAFT_LOG_WARN, NULL, "cannot wake the http client loop", NULL);
	pthread_join(loop->thread, NULL);
	loop_release(loop);
}

/* Refuse the whole batch at submission: every response says `result`. */
static int refuse_all(struct transfer *ts, size_t n, int result, const craft_span *parent)
{
	for (size_t i = 0; i < n; i++) {
		if (ts[i].done)
			continue;
		httpc_transfer_refuse(&ts[i], result, parent);
		httpc_transfer_release(&ts[i], NULL);
	}
	return result;
}

int craft_httpc_submit(craft_httpc *client, craft_arena *arena, const craft_span *parent,
		       const struct craft_httpc_request *reqs, struct craft_httpc_response *resps,
		       size_t n, craft_httpc_done_fn done, void *arg)
{
	if (n == 0 || n > CRAFT_HTTPC_MULTI_MAX || !reqs || !resps || !arena || !done)
		return CRAFT_EINVAL;
	struct httpc_loop *loop = client->loop;
	struct transfer *ts = craft_arena_calloc(arena, n, sizeof(*ts));
	for (size_t i = 0; i < n; i++) {
		resps[i] = (struct craft_httpc_response){.result = CRAFT_EUNAVAIL};
		ts[i] = (struct transfer){
		    .client = client, .req = &reqs[i], .resp = &resps[i], .arena = arena};
		atomic_fetch_add_explicit(&client->requests, 1, memory_order_relaxed);
	}
	if (!loop)
		return refuse_all(ts, n, CRAFT_EUNAVAIL, parent);
	size_t live = 0;
	for (size_t i = 0; i < n; i++) {
		int result = httpc_transfer_prepare(&ts[i], parent);
		if (result)
			httpc_transfer_refuse(&ts[i], result, parent);
		else
			live++;
	}
	struct batch *b = craft_xcalloc(1, sizeof(*b));
	*b = (struct batch){.ts = ts, .n = n, .left = live, .done = done, .arg = arg};
	pthread_mutex_lock(&loop->mu);
	bool refused = loop->stopping || loop->queued >= loop->max_queue;
	if (!refused) {
		if (loop->tail)
			loop->tail->next = b;
		else
			loop->head = b;
		loop->tail = b;
		loop->queued++;
	}
	pthread_mutex_unlock(&loop->mu);
	if (refused) {
		free(b);
		craft_log(CRAFT_LOG_WARN, parent, "http client loop busy or stopping", NULL);
		return refuse_all(ts, n, CRAFT_EUNAVAIL, parent);
	}
	uint64_t one = 1;
	if (write(loop->wakefd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		craft_log(CRAFT_LOG_WARN, NULL, "cannot wake the http client loop", NULL);
	return CRAFT_OK;
}
