/* circuit.h - a circuit breaker for a dependency that may go away.
 *
 * After `threshold` consecutive failures the circuit opens: calls are
 * refused at once, without touching the network, for `cooldown_ms`. Then one
 * call is let through as a probe (half-open): its success closes the
 * circuit, its failure opens it for another cool-down. While the probe runs,
 * other calls are refused.
 *
 * Time is passed in by the caller (milliseconds on any monotonic clock, e.g.
 * craft_clock_ms() of clock.h), so the state machine is pure and tests drive it
 * with a fake clock. The functions that change state report the change so
 * the caller can log it once. All functions are thread-safe.
 *
 * Usage: every call that craft_circuit_allow() lets through ends in exactly
 * one of craft_circuit_success(), craft_circuit_failure() or
 * craft_circuit_cancel() (the call never reached the dependency).
 */
#ifndef CRAFT_CIRCUIT_H
#define CRAFT_CIRCUIT_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

enum craft_circuit_state {
	CRAFT_CIRCUIT_CLOSED = 0,    /* calls go through */
	CRAFT_CIRCUIT_OPEN = 1,      /* calls refused until the cool-down ends */
	CRAFT_CIRCUIT_HALF_OPEN = 2, /* one probe in flight (or about to be) */
};

/* What craft_circuit_allow() decided. */
enum craft_circuit_verdict {
	CRAFT_CIRCUIT_REJECT = 0, /* do not call; fail fast */
	CRAFT_CIRCUIT_PASS = 1,   /* circuit closed: call */
	CRAFT_CIRCUIT_PROBE = 2,  /* call: this one decides whether the circuit closes */
};

/* A state change reported by success/failure, for logging once. */
enum craft_circuit_change {
	CRAFT_CIRCUIT_SAME = 0,      /* no change */
	CRAFT_CIRCUIT_OPENED = 1,    /* closed -> open: the dependency looks down */
	CRAFT_CIRCUIT_REOPENED = 2,  /* the probe failed: open for another cool-down */
	CRAFT_CIRCUIT_RECOVERED = 3, /* -> closed: the dependency answers again */
};

/* Caller-owned; fields are private (read them with craft_circuit_stats()). */
typedef struct craft_circuit {
	pthread_mutex_t mu;
	unsigned threshold;
	uint64_t cooldown_ms;
	enum craft_circuit_state state;
	unsigned failures;     /* consecutive, while closed */
	uint64_t opened_at_ms; /* start of the current cool-down */
	bool probing;          /* a probe is out */
	uint64_t probe_at_ms;  /* when it went out */
	unsigned long opens, rejected;
} craft_circuit;

struct craft_circuit_stats {
	enum craft_circuit_state state;
	unsigned failures;      /* consecutive failures counted while closed */
	unsigned long opens;    /* times the circuit opened from closed */
	unsigned long rejected; /* calls refused */
};

/* Start closed. `threshold` consecutive failures open the circuit (0 is
 * taken as 1); it stays open `cooldown_ms` before a probe. Aborts if the
 * mutex cannot be made. */
void craft_circuit_init(craft_circuit *circuit, unsigned threshold, unsigned cooldown_ms);

/* Release the mutex. The struct may be reused after craft_circuit_init(). */
void craft_circuit_cleanup(craft_circuit *circuit);

/* May a call go out at `now_ms`? Refusals are counted. A probe that has not
 * reported back within one cool-down is presumed lost and another is let out. */
enum craft_circuit_verdict craft_circuit_allow(craft_circuit *circuit, uint64_t now_ms);

/* The dependency answered. Resets the failure count; closes a half-open
 * circuit. A late success while open changes nothing (only a probe closes). */
enum craft_circuit_change craft_circuit_success(craft_circuit *circuit);

/* The dependency failed (could not connect, timed out, link lost). Opens the
 * circuit at the threshold, or again after a failed probe. Late failures
 * while open do not extend the cool-down. */
enum craft_circuit_change craft_circuit_failure(craft_circuit *circuit, uint64_t now_ms);

/* An allowed call ended without reaching the dependency (e.g. no free
 * connection): a probe slot is given back, nothing is counted. */
void craft_circuit_cancel(craft_circuit *circuit);

/* A consistent snapshot, for /metrics and /health. */
void craft_circuit_stats(craft_circuit *circuit, struct craft_circuit_stats *out);

/* "closed", "open", "half_open" (never NULL): the state as logs and tests
 * name it (no production caller today; redis.c logs the changes in words). */
const char *craft_circuit_state_name(enum craft_circuit_state state);

#endif
