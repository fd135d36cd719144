/* service_redis.c - the Redis opener: settings, pool, figures. Declared in service_redis.h. */
#include "service_redis.h"

#include "common.h"
#include "config.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CACHE_FIELD(member) offsetof(struct craft_cache_config, member)

static const struct craft_config_field cache_fields[] = {
    {.name = "REDIS_HOST",
     .type = CRAFT_CONFIG_STR,
     .default_value = "localhost",
     .min = 1,
     .max = 255,
     .offset = CACHE_FIELD(host),
     .help = "Redis host"},
    {.name = "REDIS_PORT",
     .type = CRAFT_CONFIG_INT,
     .default_value = "6379",
     .min = 1,
     .max = 65535,
     .offset = CACHE_FIELD(port),
     .help = "Redis port"},
    {.name = "REDIS_PASSWORD",
     .type = CRAFT_CONFIG_STR,
     .default_value = "",
     .max = 512,
     .secret = true,
     .offset = CACHE_FIELD(password),
     .help = "Redis AUTH password (requirepass); empty = none"},
    {.name = "REDIS_POOL_SIZE",
     .type = CRAFT_CONFIG_INT,
     .default_value = "0",
     .min = 0,
     .max = 256,
     .offset = CACHE_FIELD(pool_size),
     .help = "Redis connections, 0 = one per core"},
    {.name = "REDIS_TIMEOUT_MS",
     .type = CRAFT_CONFIG_INT,
     .default_value = "250",
     .min = 10,
     .max = 10000,
     .offset = CACHE_FIELD(timeout_ms),
     .help = "Redis connect and command timeout"},
};

static const struct craft_metric_desc redis_metrics[] = {
    {"craft_redis_up", "1 while the Redis circuit is closed", CRAFT_METRIC_GAUGE},
    {"craft_redis_commands_total", "Redis commands sent", CRAFT_METRIC_COUNTER},
    {"craft_redis_failures_total", "Redis connect failures, timeouts and lost links",
     CRAFT_METRIC_COUNTER},
    {"craft_redis_rejected_total", "Redis commands refused while the circuit was open",
     CRAFT_METRIC_COUNTER},
    {"craft_redis_pool_size", "Redis pool connections", CRAFT_METRIC_GAUGE},
    {"craft_redis_pool_in_use", "Redis connections lent out now", CRAFT_METRIC_GAUGE},
    {"craft_redis_timeouts_total", "Redis commands that timed out", CRAFT_METRIC_COUNTER},
    {"craft_redis_acquire_timeouts_total", "Waits for a free Redis connection that timed out",
     CRAFT_METRIC_COUNTER},
    {"craft_redis_reconnects_total", "Redis connections opened again", CRAFT_METRIC_COUNTER},
};

static void collect_redis(void *pool, double *v)
{
	struct craft_redis_stats st;
	craft_redis_pool_stats(pool, &st);
	v[0] = st.circuit == CRAFT_CIRCUIT_CLOSED ? 1 : 0;
	v[1] = (double)st.commands;
	v[2] = (double)st.failures;
	v[3] = (double)st.rejected;
	v[4] = st.size;
	v[5] = st.in_use;
	v[6] = (double)st.timeouts;
	v[7] = (double)st.acquire_timeouts;
	v[8] = (double)st.reconnects;
}

int craft_service_open_cache(struct craft_service *svc, struct craft_cache_config *cfg,
			     const struct craft_redis_script *scripts, size_t nscripts,
			     craft_redis_pool **out, char *err, size_t err_len)
{
	memset(cfg, 0, sizeof(*cfg));
	int rc = craft_config_load(cache_fields, CRAFT_ARRAY_LEN(cache_fields), cfg, NULL, NULL,
				   svc->config.development, err, err_len);
	if (rc)
		return rc;
	long cores = sysconf(_SC_NPROCESSORS_ONLN);
	struct craft_redis_options opts = {
	    .host = cfg->host,
	    .port = (unsigned)cfg->port,
	    .password = cfg->password,
	    .size = (unsigned)(cfg->pool_size ? cfg->pool_size : (cores > 0 ? cores : 2)),
	    .connect_timeout_ms = (unsigned)cfg->timeout_ms,
	    .command_timeout_ms = (unsigned)cfg->timeout_ms,
	    .tracer = svc->tracer,
	    .watch_restarts = true,
	};
	rc = craft_redis_pool_new(&opts, scripts, nscripts, out);
	if (rc) {
		snprintf(err, err_len,
			 "cannot set up the Redis pool (check REDIS_HOST / REDIS_PORT)");
		return rc;
	}
	craft_metrics_add_collector(svc->metrics, redis_metrics, CRAFT_ARRAY_LEN(redis_metrics),
				    collect_redis, *out);
	return CRAFT_OK;
}

void craft_service_close_cache(struct craft_cache_config *cfg, craft_redis_pool *pool)
{
	craft_redis_pool_free(pool);
	craft_config_free(cache_fields, CRAFT_ARRAY_LEN(cache_fields), cfg);
}
