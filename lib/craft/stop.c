#include "stop.h"

#include "clock.h"

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

bool craft_stop_wait(struct craft_stop *stop, unsigned ms)
{
	struct timespec until = craft_deadline_ms(ms);
	pthread_mutex_lock(&stop->lock);
	while (!stop->requested) {
		if (pthread_cond_timedwait(&stop->cond, &stop->lock, &until) != 0)
			break; /* ETIMEDOUT */
	}
	bool r = stop->requested;
	pthread_mutex_unlock(&stop->lock);
	return r;
}
