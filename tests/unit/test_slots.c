/* The connection slots of the pools (slots.h): open slots first, a bounded
 * wait, a waiter woken by a give, and the counts. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <cmocka.h>

#include "craft/clock.h"
#include "craft/common.h"
#include "craft/slots.h"

static void test_open_slots_first(void **state)
{
	(void)state;
	struct craft_slots s;
	craft_slots_init(&s, 3, 50);
	unsigned a = 9, b = 9, c = 9;
	assert_int_equal(craft_slots_take(&s, &a), CRAFT_OK);
	assert_int_equal(a, 0); /* none open: the first free one */
	assert_int_equal(craft_slots_take(&s, &b), CRAFT_OK);
	assert_int_equal(b, 1);
	craft_slots_set_open(&s, b, true);
	craft_slots_give(&s, a);
	craft_slots_give(&s, b);
	assert_int_equal(craft_slots_take(&s, &c), CRAFT_OK);
	assert_int_equal(c, 1); /* the open one before the closed ones */
	craft_slots_set_open(&s, c, false);
	craft_slots_give(&s, c);
	assert_int_equal(craft_slots_take(&s, &c), CRAFT_OK);
	assert_int_equal(c, 0);
	craft_slots_give(&s, c);
	craft_slots_cleanup(&s);
}

static void test_bounded_wait(void **state)
{
	(void)state;
	struct craft_slots s;
	craft_slots_init(&s, 1, 30);
	unsigned a = 0, b = 0;
	assert_int_equal(craft_slots_take(&s, &a), CRAFT_OK);
	uint64_t t0 = craft_clock_ns();
	assert_int_equal(craft_slots_take(&s, &b), CRAFT_EUNAVAIL);
	assert_true(craft_clock_ns() - t0 >= 30u * 1000000u); /* waited the whole timeout */
	struct craft_slots_stats st;
	craft_slots_stats(&s, &st);
	assert_int_equal(st.size, 1);
	assert_int_equal(st.in_use, 1);
	assert_int_equal(st.waiting, 0);
	assert_int_equal(st.acquired, 1);
	assert_int_equal(st.acquire_timeouts, 1);
	craft_slots_give(&s, a);
	craft_slots_stats(&s, &st);
	assert_int_equal(st.in_use, 0);
	craft_slots_cleanup(&s);
}

struct taker {
	struct craft_slots *s;
	unsigned index;
	int rc;
};

static void *take_one(void *arg)
{
	struct taker *t = arg;
	t->rc = craft_slots_take(t->s, &t->index);
	return NULL;
}

static void test_give_wakes_a_waiter(void **state)
{
	(void)state;
	struct craft_slots s;
	craft_slots_init(&s, 1, 3600u * 1000u); /* an hour: only a give ends the wait */
	unsigned a = 0;
	assert_int_equal(craft_slots_take(&s, &a), CRAFT_OK);
	struct taker t = {.s = &s, .rc = CRAFT_EINTERNAL};
	pthread_t thread;
	assert_int_equal(pthread_create(&thread, NULL, take_one, &t), 0);
	for (;;) { /* until the taker waits */
		struct craft_slots_stats st;
		craft_slots_stats(&s, &st);
		if (st.waiting == 1)
			break;
		struct timespec ts = {.tv_sec = 0, .tv_nsec = 1000000};
		nanosleep(&ts, NULL);
	}
	craft_slots_give(&s, a);
	pthread_join(thread, NULL);
	assert_int_equal(t.rc, CRAFT_OK);
	assert_int_equal(t.index, 0);
	craft_slots_give(&s, t.index);
	craft_slots_cleanup(&s);
}

static void test_deadline_is_ahead(void **state)
{
	(void)state;
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	struct timespec d = craft_deadline_ms(1500);
	assert_true(d.tv_nsec >= 0 && d.tv_nsec < 1000000000L);
	int64_t ahead_ms =
	    (int64_t)(d.tv_sec - now.tv_sec) * 1000 + (d.tv_nsec - now.tv_nsec) / 1000000;
	assert_true(ahead_ms >= 1500);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_open_slots_first),
	    cmocka_unit_test(test_bounded_wait),
	    cmocka_unit_test(test_give_wakes_a_waiter),
	    cmocka_unit_test(test_deadline_is_ahead),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
