/* app.h - the product service's context and settings. */
#ifndef PRODUCT_APP_H
#define PRODUCT_APP_H

#include "craft/httpc.h"
#include "craft/jwks_cache.h"
#include "craft/pg.h"
#include "craft/redis.h"
#include "craft/service.h"
#include "craft/service_jwks.h"
#include "craft/service_pg.h"
#include "craft/service_redis.h"
#include "craft/workq.h"

#include "cache.h"

struct product_config {
	long cache_ttl_s;
	long repair_interval_ms;
	long db_threads;
	long db_queue;
};

struct product_app {
	struct craft_service svc; /* first: the common handlers find it here */
	struct product_config cfg;
	struct craft_db_config db;
	struct craft_cache_config cache_cfg;
	struct craft_jwks_config jwks_cfg;
	craft_pg_pool *pg;
	craft_redis_pool *redis;
	craft_httpc *http;
	craft_jwks_cache *jwks;
	struct product_cache cache;
	bool cache_started;
	craft_workq *db_work; /* handlers that wait on PostgreSQL */
};

/* The caller's verified identity, set by the authorizer (req->auth). */
struct product_caller {
	const char *username;
	const char *role;
};

extern const struct craft_route product_routes[];
extern const size_t product_nroutes;
extern const struct craft_service_link product_links[];
extern const size_t product_nlinks;

bool product_health(void *app, craft_req *req, json_t *checks, json_t *health);
int product_authorize(craft_req *req, const char *role);

#endif
