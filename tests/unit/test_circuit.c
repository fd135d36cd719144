/* test_circuit.c - the circuit breaker's state machine, driven by a fake clock. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "craft/circuit.h"

static void fail_n(craft_circuit *c, unsigned n, uint64_t now)
{
	for (unsigned i = 0; i < n; i++) {
		assert_int_equal(craft_circuit_allow(c, now), CRAFT_CIRCUIT_PASS);
		assert_int_equal(craft_circuit_failure(c, now), CRAFT_CIRCUIT_SAME);
	}
}

static void test_opens_after_threshold(void **state)
{
	(void)state;
	craft_circuit c;
	craft_circuit_init(&c, 3, 1000);
	fail_n(&c, 2, 100);
	assert_int_equal(craft_circuit_allow(&c, 100), CRAFT_CIRCUIT_PASS);
	assert_int_equal(craft_circuit_failure(&c, 150), CRAFT_CIRCUIT_OPENED);
	/* Refused for the whole cool-down, counted. */
	assert_int_equal(craft_circuit_allow(&c, 150), CRAFT_CIRCUIT_REJECT);
	assert_int_equal(craft_circuit_allow(&c, 1149), CRAFT_CIRCUIT_REJECT);
	struct craft_circuit_stats st;
	craft_circuit_stats(&c, &st);
	assert_int_equal(st.state, CRAFT_CIRCUIT_OPEN);
	assert_int_equal(st.opens, 1);
	assert_int_equal(st.rejected, 2);
	assert_string_equal(craft_circuit_state_name(st.state), "open");
	craft_circuit_cleanup(&c);
}

static void test_success_resets_count(void **state)
{
	(void)state;
	craft_circuit c;
	craft_circuit_init(&c, 3, 1000);
	fail_n(&c, 2, 0);
	assert_int_equal(craft_circuit_allow(&c, 0), CRAFT_CIRCUIT_PASS);
	assert_int_equal(craft_circuit_success(&c), CRAFT_CIRCUIT_SAME);
	fail_n(&c, 2, 0); /* 2 again, not 4: still closed */
	struct craft_circuit_stats st;
	craft_circuit_stats(&c, &st);
	assert_int_equal(st.state, CRAFT_CIRCUIT_CLOSED);
	assert_int_equal(st.failures, 2);
	craft_circuit_cleanup(&c);
}

static void test_probe_success_closes(void **state)
{
	(void)state;
	craft_circuit c;
	craft_circuit_init(&c, 1, 500);
	assert_int_equal(craft_circuit_allow(&c, 0), CRAFT_CIRCUIT_PASS);
	assert_int_equal(craft_circuit_failure(&c, 10), CRAFT_CIRCUIT_OPENED);
	/* Exactly one probe after the cool-down; others are refused meanwhile. */
	assert_int_equal(craft_circuit_allow(&c, 509), CRAFT_CIRCUIT_REJECT);
	assert_int_equal(craft_circuit_allow(&c, 510), CRAFT_CIRCUIT_PROBE);
	assert_int_equal(craft_circuit_allow(&c, 511), CRAFT_CIRCUIT_REJECT);
	struct craft_circuit_stats st;
	craft_circuit_stats(&c, &st);
	assert_int_equal(st.state, CRAFT_CIRCUIT_HALF_OPEN);
	assert_int_equal(craft_circuit_success(&c), CRAFT_CIRCUIT_RECOVERED);
	assert_int_equal(craft_circuit_allow(&c, 512), CRAFT_CIRCUIT_PASS);
	craft_circuit_stats(&c, &st);
	assert_int_equal(st.state, CRAFT_CIRCUIT_CLOSED);
	assert_int_equal(st.failures, 0);
	craft_circuit_cleanup(&c);
}

static void test_probe_failure_reopens(void **state)
{
	(void)state;
	craft_circuit c;
	craft_circuit_init(&c, 2, 1000);
	fail_n(&c, 1, 0);
	assert_int_equal(craft_circuit_allow(&c, 0), CRAFT_CIRCUIT_PASS);
	assert_int_equal(craft_circuit_failure(&c, 0), CRAFT_CIRCUIT_OPENED);
	assert_int_equal(craft_circuit_allow(&c, 1000), CRAFT_CIRCUIT_PROBE);
	assert_int_equal(craft_circuit_failure(&c, 1100), CRAFT_CIRCUIT_REOPENED);
	/* A new cool-down from the probe's failure, not from the first opening. */
	assert_int_equal(craft_circuit_allow(&c, 2000), CRAFT_CIRCUIT_REJECT);
	assert_int_equal(craft_circuit_allow(&c, 2100), CRAFT_CIRCUIT_PROBE);
	assert_int_equal(craft_circuit_success(&c), CRAFT_CIRCUIT_RECOVERED);
	struct craft_circuit_stats st;
	craft_circuit_stats(&c, &st);
	assert_int_equal(st.opens, 1); /* reopening is not a new outage */
	craft_circuit_cleanup(&c);
}

static void test_late_outcomes_while_open(void **state)
{
	(void)state;
	craft_circuit c;
	craft_circuit_init(&c, 1, 1000);
	assert_int_equal(craft_circuit_allow(&c, 0), CRAFT_CIRCUIT_PASS);
	assert_int_equal(craft_circuit_allow(&c, 0), CRAFT_CIRCUIT_PASS);
	assert_int_equal(craft_circuit_failure(&c, 0), CRAFT_CIRCUIT_OPENED);
	/* A call that started before the opening reports late: nothing changes. */
	assert_int_equal(craft_circuit_success(&c), CRAFT_CIRCUIT_SAME);
	assert_int_equal(craft_circuit_failure(&c, 900), CRAFT_CIRCUIT_SAME);
	assert_int_equal(craft_circuit_allow(&c, 999), CRAFT_CIRCUIT_REJECT);
	assert_int_equal(craft_circuit_allow(&c, 1000), CRAFT_CIRCUIT_PROBE);
	craft_circuit_cleanup(&c);
}

static void test_cancel_and_lost_probe(void **state)
{
	(void)state;
	craft_circuit c;
	craft_circuit_init(&c, 1, 100);
	assert_int_equal(craft_circuit_allow(&c, 0), CRAFT_CIRCUIT_PASS);
	assert_int_equal(craft_circuit_failure(&c, 0), CRAFT_CIRCUIT_OPENED);
	assert_int_equal(craft_circuit_allow(&c, 100), CRAFT_CIRCUIT_PROBE);
	/* The probe never reached the dependency: the next call may probe. */
	craft_circuit_cancel(&c);
	assert_int_equal(craft_circuit_allow(&c, 101), CRAFT_CIRCUIT_PROBE);
	/* That probe never reports: after one more cool-down another goes out. */
	assert_int_equal(craft_circuit_allow(&c, 150), CRAFT_CIRCUIT_REJECT);
	assert_int_equal(craft_circuit_allow(&c, 201), CRAFT_CIRCUIT_PROBE);
	craft_circuit_cleanup(&c);
}

static void test_threshold_zero_is_one(void **state)
{
	(void)state;
	craft_circuit c;
	craft_circuit_init(&c, 0, 10);
	assert_int_equal(craft_circuit_allow(&c, 0), CRAFT_CIRCUIT_PASS);
	assert_int_equal(craft_circuit_failure(&c, 0), CRAFT_CIRCUIT_OPENED);
	assert_string_equal(craft_circuit_state_name(CRAFT_CIRCUIT_HALF_OPEN), "half_open");
	assert_string_equal(craft_circuit_state_name(CRAFT_CIRCUIT_CLOSED), "closed");
	craft_circuit_cleanup(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_opens_after_threshold),
	    cmocka_unit_test(test_success_resets_count),
	    cmocka_unit_test(test_probe_success_closes),
	    cmocka_unit_test(test_probe_failure_reopens),
	    cmocka_unit_test(test_late_outcomes_while_open),
	    cmocka_unit_test(test_cancel_and_lost_probe),
	    cmocka_unit_test(test_threshold_zero_is_one),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
