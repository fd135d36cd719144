#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "craft/common.h"
#include "craft/workq.h"

static atomic_int done;

static void add_one(void *arg)
{
	(void)arg;
	atomic_fetch_add(&done, 1);
}

static void test_runs_every_job(void **state)
{
	(void)state;
	atomic_store(&done, 0);
	craft_workq *q = NULL;
	assert_int_equal(craft_workq_new(3, 1000, &q), CRAFT_OK);
	for (int i = 0; i < 1000; i++)
		while (craft_workq_submit(q, add_one, NULL) == CRAFT_ETOOBIG)
			;
	craft_workq_free(q); /* drains the queue */
	assert_int_equal(atomic_load(&done), 1000);
}

/* A job that blocks until released, to fill the queue deterministically. */
struct gate {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool open;
	int started;
};

static void wait_gate(void *arg)
{
	struct gate *g = arg;
	pthread_mutex_lock(&g->lock);
	g->started++;
	pthread_cond_broadcast(&g->cond);
	while (!g->open)
		pthread_cond_wait(&g->cond, &g->lock);
	pthread_mutex_unlock(&g->lock);
}

static void test_full_queue_is_refused(void **state)
{
	(void)state;
	struct gate g = {.lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER};
	craft_workq *q = NULL;
	assert_int_equal(craft_workq_new(1, 2, &q), CRAFT_OK);
	assert_int_equal(craft_workq_submit(q, wait_gate, &g), CRAFT_OK);
	pthread_mutex_lock(&g.lock);
	while (g.started < 1) /* the worker holds the first job */
		pthread_cond_wait(&g.cond, &g.lock);
	pthread_mutex_unlock(&g.lock);
	assert_int_equal(craft_workq_submit(q, wait_gate, &g), CRAFT_OK);
	assert_int_equal(craft_workq_submit(q, wait_gate, &g), CRAFT_OK);
	assert_int_equal(craft_workq_submit(q, wait_gate, &g), CRAFT_ETOOBIG);
	struct craft_workq_stats st;
	craft_workq_stats(q, &st);
	assert_int_equal(st.queued, 2);
	assert_int_equal(st.running, 1);
	assert_int_equal(st.rejected, 1);
	pthread_mutex_lock(&g.lock);
	g.open = true;
	pthread_cond_broadcast(&g.cond);
	pthread_mutex_unlock(&g.lock);
	craft_workq_free(q);
	assert_int_equal(g.started, 3);
}

static void test_bad_sizes(void **state)
{
	(void)state;
	craft_workq *q = NULL;
	assert_int_equal(craft_workq_new(0, 1, &q), CRAFT_EINVAL);
	assert_int_equal(craft_workq_new(1, 0, &q), CRAFT_EINVAL);
	craft_workq_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_runs_every_job),
	    cmocka_unit_test(test_full_queue_is_refused),
	    cmocka_unit_test(test_bad_sizes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
