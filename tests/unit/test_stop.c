#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <cmocka.h>

#include "craft/clock.h"
#include "craft/stop.h"

static void test_times_out(void **state)
{
	(void)state;
	struct craft_stop s;
	craft_stop_init(&s);
	uint64_t t0 = craft_clock_ns();
	assert_false(craft_stop_wait(&s, 30));
	assert_true(craft_clock_ns() - t0 >= 30u * 1000000u); /* never shorter than asked */
	assert_false(craft_stop_wait(&s, 0));                 /* still not requested */
	craft_stop_cleanup(&s);
}

static void *request_later(void *arg)
{
	struct timespec ts = {.tv_sec = 0, .tv_nsec = 20 * 1000 * 1000};
	nanosleep(&ts, NULL);
	craft_stop_request(arg);
	return NULL;
}

static void test_wakes_on_request(void **state)
{
	(void)state;
	struct craft_stop s;
	craft_stop_init(&s);
	pthread_t t;
	assert_int_equal(pthread_create(&t, NULL, request_later, &s), 0);
	/* an hour's wait ends when the stop comes */
	assert_true(craft_stop_wait(&s, 3600u * 1000u));
	pthread_join(t, NULL);
	assert_true(craft_stop_wait(&s, 3600u * 1000u)); /* later waits return at once */
	craft_stop_cleanup(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_times_out),
	    cmocka_unit_test(test_wakes_on_request),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
