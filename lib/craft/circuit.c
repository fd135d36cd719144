/* circuit.c - circuit breaker state machine (see circuit.h and docs/circuit.md). */
#include "circuit.h"

#include "common.h"

#include <time.h>

void craft_circuit_init(craft_circuit *circuit, unsigned threshold, unsigned cooldown_ms)
{
	*circuit = (craft_circuit){
	    .threshold = threshold ? threshold : 1,
	    .cooldown_ms = cooldown_ms,
	    .state = CRAFT_CIRCUIT_CLOSED,
	};
	if (pthread_mutex_init(&circuit->mu, NULL))
		craft_oom(sizeof(circuit->mu));
}

void craft_circuit_cleanup(craft_circuit *circuit)
{
	pthread_mutex_destroy(&circuit->mu);
}

/* Open (or reopen) at now_ms; the caller holds the lock. */
static void trip(craft_circuit *circuit, uint64_t now_ms)
{
	circuit->state = CRAFT_CIRCUIT_OPEN;
	circuit->opened_at_ms = now_ms;
	circuit->probing = false;
	circuit->failures = 0;
}

static bool elapsed(uint64_t since_ms, uint64_t now_ms, uint64_t span_ms)
{
	return now_ms >= since_ms && now_ms - since_ms >= span_ms;
}

enum craft_circuit_verdict craft_circuit_allow(craft_circuit *circuit, uint64_t now_ms)
{
	enum craft_circuit_verdict verdict = CRAFT_CIRCUIT_REJECT;
	pthread_mutex_lock(&circuit->mu);
	switch (circuit->state) {
	case CRAFT_CIRCUIT_CLOSED: verdict = CRAFT_CIRCUIT_PASS; break;
	case CRAFT_CIRCUIT_OPEN:
		if (elapsed(circuit->opened_at_ms, now_ms, circuit->cooldown_ms)) {
			circuit->state = CRAFT_CIRCUIT_HALF_OPEN;
			verdict = CRAFT_CIRCUIT_PROBE;
		}
		break;
	case CRAFT_CIRCUIT_HALF_OPEN:
		if (!circuit->probing ||
		    elapsed(circuit->probe_at_ms, now_ms, circuit->cooldown_ms))
			verdict = CRAFT_CIRCUIT_PROBE;
		break;
	}
	if (verdict == CRAFT_CIRCUIT_PROBE) {
		circuit->probing = true;
		circuit->probe_at_ms = now_ms;
	} else if (verdict == CRAFT_CIRCUIT_REJECT) {
		circuit->rejected++;
	}
	pthread_mutex_unlock(&circuit->mu);
	return verdict;
}

enum craft_circuit_change craft_circuit_success(craft_circuit *circuit)
{
	enum craft_circuit_change change = CRAFT_CIRCUIT_SAME;
	pthread_mutex_lock(&circuit->mu);
	if (circuit->state == CRAFT_CIRCUIT_HALF_OPEN) {
		circuit->state = CRAFT_CIRCUIT_CLOSED;
		circuit->probing = false;
		change = CRAFT_CIRCUIT_RECOVERED;
	}
	if (circuit->state == CRAFT_CIRCUIT_CLOSED)
		circuit->failures = 0;
	pthread_mutex_unlock(&circuit->mu);
	return change;
}

enum craft_circuit_change craft_circuit_failure(craft_circuit *circuit, uint64_t now_ms)
{
	enum craft_circuit_change change = CRAFT_CIRCUIT_SAME;
	pthread_mutex_lock(&circuit->mu);
	switch (circuit->state) {
	case CRAFT_CIRCUIT_CLOSED:
		if (++circuit->failures >= circuit->threshold) {
			trip(circuit, now_ms);
			circuit->opens++;
			change = CRAFT_CIRCUIT_OPENED;
		}
		break;
	case CRAFT_CIRCUIT_HALF_OPEN:
		trip(circuit, now_ms);
		change = CRAFT_CIRCUIT_REOPENED;
		break;
	case CRAFT_CIRCUIT_OPEN: break;
	}
	pthread_mutex_unlock(&circuit->mu);
	return change;
}

void craft_circuit_cancel(craft_circuit *circuit)
{
	pthread_mutex_lock(&circuit->mu);
	if (circuit->state == CRAFT_CIRCUIT_HALF_OPEN)
		circuit->probing = false;
	pthread_mutex_unlock(&circuit->mu);
}

void craft_circuit_stats(craft_circuit *circuit, struct craft_circuit_stats *out)
{
	pthread_mutex_lock(&circuit->mu);
	out->state = circuit->state;
	out->failures = circuit->failures;
	out->opens = circuit->opens;
	out->rejected = circuit->rejected;
	pthread_mutex_unlock(&circuit->mu);
}

const char *craft_circuit_state_name(enum craft_circuit_state state)
{
	switch (state) {
	case CRAFT_CIRCUIT_CLOSED: return "closed";
	case CRAFT_CIRCUIT_OPEN: return "open";
	case CRAFT_CIRCUIT_HALF_OPEN: return "half_open";
	}
	return "unknown";
}
