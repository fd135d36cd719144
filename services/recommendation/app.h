/* app.h - the recommendation service's context, shared by main and routes. */
#ifndef RECO_APP_H
#define RECO_APP_H

#include "craft/pg.h"
#include "craft/service.h"
#include "craft/service_pg.h"

#include "daily.h"
#include "top.h"

struct reco_config {
	long daily_interval_us;
};

struct reco_app {
	struct craft_service svc; /* first: the common handlers find it here */
	struct reco_config cfg;
	struct craft_db_config db;
	craft_pg_pool *pg;
	struct reco_daily daily;
	struct reco_top_cache top;
};

/* The route table and the home page's API links. */
extern const struct craft_route reco_routes[];
extern const size_t reco_nroutes;
extern const struct craft_service_link reco_links[];
extern const size_t reco_nlinks;

#endif
