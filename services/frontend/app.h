/* app.h - the frontend's context and settings. */
#ifndef FRONTEND_APP_H
#define FRONTEND_APP_H

#include <stdbool.h>

#include "craft/httpc.h"
#include "craft/jwks_cache.h"
#include "craft/service.h"
#include "craft/service_jwks.h"
#include "craft/template.h"

#include "gateway.h"
#include "render_cache.h"
#include "revalidate.h"
#include "session.h"
#include "static.h"
#include "status.h"

struct frontend_config {
	const char *products_url;       /* PRODUCTS_API_BASE_URI */
	const char *recommendation_url; /* RECOMMENDATION_BASE_URI */
	const char *voting_url;         /* VOTING_BASE_URI ("" = products) */
	const char *internal_api_key;   /* INTERNAL_API_KEY */
	const char *node_env;           /* NODE_ENV */
	bool cookie_secure;             /* COOKIE_SECURE */
	const char *public_origin;      /* PUBLIC_ORIGIN */
	const char *trusted_proxies;    /* TRUSTED_PROXIES */
	const char *static_dir;         /* STATIC_DIR */
	const char *template_dir;       /* TEMPLATE_DIR */
	long backend_timeout_ms;        /* BACKEND_TIMEOUT_MS */
	long page_size;                 /* PAGE_SIZE */
	long status_interval_ms;        /* STATUS_INTERVAL_MS */
};

struct frontend_app {
	struct craft_service svc; /* first: the common handlers find it here */
	struct frontend_config cfg;
	struct craft_jwks_config jwks_cfg;
	craft_httpc *http;
	craft_jwks_cache *jwks;
	craft_template_set *templates;
	struct static_files files;
	struct session_options session;
	struct craft_proxy_list proxies;        /* TRUSTED_PROXIES, parsed */
	struct gateway gateway;                 /* the backends, their base URLs and calls */
	struct reval_resource catalogue, daily; /* revalidated on every view */
	struct reval_resource *revalidated[2];
	struct reval_ticker ticker;
	struct status_board status;
	struct render_cache pages; /* rendered anonymous pages */
	bool ready;                /* the above are set up */
};

extern const struct craft_route frontend_routes[];
extern const size_t frontend_nroutes;

bool frontend_health(void *app, craft_req *req, json_t *checks, json_t *health);
void frontend_static(craft_req *req);

#endif
