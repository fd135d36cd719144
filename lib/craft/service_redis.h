/* service_redis.h - the Redis opener of a service (see service.h): its
 * settings, the pool and the pool's figures for /metrics. Only a service that
 * includes it links hiredis (CMake target craft-redis). */
#ifndef CRAFT_SERVICE_REDIS_H
#define CRAFT_SERVICE_REDIS_H

#include <stddef.h>

#include "redis.h"
#include "service.h"

/* Redis settings: REDIS_HOST, REDIS_PORT, REDIS_POOL_SIZE, REDIS_TIMEOUT_MS. */
struct craft_cache_config {
	const char *host;
	long port;
	const char *password; /* REDIS_PASSWORD, "" = none */
	long pool_size;       /* 0 = number of cores */
	long timeout_ms;
};

/* Read the Redis settings and create the pool with `scripts` (lazily
 * connected; Redis being down is never fatal). Its figures go to /metrics.
 * Returns 0, or CRAFT_EINVAL with the reason in err. */
int craft_service_open_cache(struct craft_service *svc, struct craft_cache_config *cfg,
			     const struct craft_redis_script *scripts, size_t nscripts,
			     craft_redis_pool **out, char *err, size_t err_len);
void craft_service_close_cache(struct craft_cache_config *cfg, craft_redis_pool *pool);

#endif
