#include "workq.h"

#include "common.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>

struct job {
	craft_work_fn fn;
	void *arg;
};

struct craft_workq {
	pthread_mutex_t lock;
	pthread_cond_t ready;
	pthread_t *threads;
	unsigned nthreads;
	struct job *ring; /* max_queue slots */
	unsigned max_queue, head, count, running;
	unsigned long completed, rejected;
	bool stopping;
};

static void *worker(void *arg)
{
	craft_workq *q = arg;
	pthread_mutex_lock(&q->lock);
	for (;;) {
		while (q->count == 0 && !q->stopping)
			pthread_cond_wait(&q->ready, &q->lock);
		if (q->count == 0 && q->stopping)
			break;
		struct job j = q->ring[q->head];
		q->head = (q->head + 1) % q->max_queue;
		q->count--;
		q->running++;
		pthread_mutex_unlock(&q->lock);
		j.fn(j.arg);
		pthread_mutex_lock(&q->lock);
		q->running--;
		q->completed++;
	}
	pthread_mutex_unlock(&q->lock);
	return NULL;
}

int craft_workq_new(unsigned threads, unsigned max_queue, craft_workq **out)
{
	if (threads == 0 || max_queue == 0 || threads > 1024 || max_queue > 1u << 20)
		return CRAFT_EINVAL;
	craft_workq *q = craft_xcalloc(1, sizeof(*q));
	pthread_mutex_init(&q->lock, NULL);
	pthread_cond_init(&q->ready, NULL);
	q->ring = craft_xcalloc(max_queue, sizeof(*q->ring));
	q->max_queue = max_queue;
	q->threads = craft_xcalloc(threads, sizeof(*q->threads));
	for (unsigned i = 0; i < threads; i++) {
		if (pthread_create(&q->threads[i], NULL, worker, q) != 0) {
			craft_workq_free(q);
			return CRAFT_EIO;
		}
		q->nthreads++;
	}
	*out = q;
	return CRAFT_OK;
}

int craft_workq_submit(craft_workq *q, craft_work_fn fn, void *arg)
{
	int rc = CRAFT_OK;
	pthread_mutex_lock(&q->lock);
	if (q->stopping) {
		rc = CRAFT_EUNAVAIL;
	} else if (q->count == q->max_queue) {
		q->rejected++;
		rc = CRAFT_ETOOBIG;
	} else {
		q->ring[(q->head + q->count) % q->max_queue] = (struct job){.fn = fn, .arg = arg};
		q->count++;
		pthread_cond_signal(&q->ready);
	}
	pthread_mutex_unlock(&q->lock);
	return rc;
}

void craft_workq_free(craft_workq *q)
{
	if (!q)
		return;
	pthread_mutex_lock(&q->lock);
	q->stopping = true;
	pthread_cond_broadcast(&q->ready);
	pthread_mutex_unlock(&q->lock);
	for (unsigned i = 0; i < q->nthreads; i++)
		pthread_join(q->threads[i], NULL);
	pthread_cond_destroy(&q->ready);
	pthread_mutex_destroy(&q->lock);
	free(q->threads);
	free(q->ring);
	free(q);
}

void craft_workq_stats(craft_workq *q, struct craft_workq_stats *out)
{
	pthread_mutex_lock(&q->lock);
	*out = (struct craft_workq_stats){.threads = q->nthreads,
					  .queued = q->count,
					  .running = q->running,
					  .max_queue = q->max_queue,
					  .completed = q->completed,
					  .rejected = q->rejected};
	pthread_mutex_unlock(&q->lock);
}
