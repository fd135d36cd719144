#include "stop.h"

#include <time.h>

void craft_cond_init_monotonic(pthread_cond_t *cond)
{
	pthread_condattr_t attr;
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(cond, &attr);
	pthread_condattr_destroy(&attr);
}

void craft_stop_init(struct craft_stop *stop)
{
	pthread_mutex_init(&stop->lock, NULL);
	craft_cond_init_monotonic(&stop->cond);
	stop->requested = false;
}

void craft_stop_cleanup(struct craft_stop *stop)
{
	pthread_cond_destroy(&stop->cond);
	pthread_mutex_destroy(&stop->lock);
}

void craft_stop_request(struct craft_stop *stop)
{
	pthread_mutex_lock(&stop->lock);
	stop->requested = true;
	pthread_cond_broadcast(&stop->cond);
	pthread_mutex_unlock(&stop->lock);
}

bool craft_stop_requested(struct craft_stop *stop)
{
	pthread_mutex_lock(&stop->lock);
	bool r = stop->requested;
	pthread_mutex_unlock(&stop->lock);
	return r;
}

bool craft_stop_wait(struct craft_stop *stop, unsigned ms)
{
	struct timespec until;
	clock_gettime(CLOCK_MONOTONIC, &until);
	until.tv_sec += (time_t)(ms / 1000);
	until.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&stop->lock);
	while (!stop->requested) {
		if (pthread_cond_timedwait(&stop->cond, &stop->lock, &until) != 0)
			break; /* ETIMEDOUT */
	}
	bool r = stop->requested;
	pthread_mutex_unlock(&stop->lock);
	return r;
}
