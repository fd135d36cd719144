/* The recommendation service's pure domain logic: day numbers and the daily pick. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "recommendation/daily.h"

static void test_day_number_is_utc_days(void **state)
{
	(void)state;
	assert_int_equal(reco_day_number(0), 0);
	assert_int_equal(reco_day_number(86399), 0);
	assert_int_equal(reco_day_number(86400), 1);
	assert_int_equal(reco_day_number(-1), -1);
	/* 2026-11-25T00:00:00Z and its last second */
	assert_int_equal(reco_day_number(1795564800), 20782);
	assert_int_equal(reco_day_number(1795564800 + 86399), 20782);
	char text[16];
	reco_day_text(20782, text, sizeof(text));
	assert_string_equal(text, "2026-11-25");
	reco_day_text(0, text, sizeof(text));
	assert_string_equal(text, "1970-01-01");
}

static void test_consecutive_days_differ(void **state)
{
	(void)state;
	for (long n = 2; n <= 500; n++) {
		for (long day = 20000; day < 20400; day++) {
			long a = reco_daily_index(day) % n;
			long b = reco_daily_index(day + 1) % n;
			if (a == b)
				fail_msg("catalogue of %ld: days %ld and %ld pick the same", n, day,
					 day + 1);
		}
	}
}

static void test_every_origami_gets_its_day(void **state)
{
	(void)state;
	const long n = 26;
	int seen[26] = {0};
	for (long day = 20782; day < 20782 + n; day++)
		seen[reco_daily_index(day) % n]++;
	for (long i = 0; i < n; i++)
		assert_int_equal(seen[i], 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_day_number_is_utc_days),
	    cmocka_unit_test(test_consecutive_days_differ),
	    cmocka_unit_test(test_every_origami_gets_its_day),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
