/* main.c - recommendation: read config, build dependencies, serve. */
#include "app.h"

#include "craft/common.h"
#include "craft/config.h"

#include <stddef.h>
#include <stdio.h>

static const struct craft_config_field reco_fields[] = {
    {.name = "DAILY_READ_INTERVAL_US",
     .type = CRAFT_CONFIG_INT,
     .default_value = "200",
     .min = 0,
     .max = 1000000,
     .offset = offsetof(struct reco_config, daily_interval_us),
     .help = "least microseconds between two reads of the origami of the day; requests "
	     "arriving meanwhile share the next read (0 = back to back)"},
};

static int setup(void *ctx, char *err, size_t err_len)
{
	struct reco_app *app = ctx;
	reco_top_init(&app->top);
	int rc = craft_service_load_config(&app->svc, reco_fields, CRAFT_ARRAY_LEN(reco_fields),
					   &app->cfg, err, err_len);
	if (rc)
		return rc;
	rc = craft_service_open_db(&app->svc, &app->db, reco_store_stmts, reco_store_nstmts, "003",
				   &app->pg, err, err_len);
	if (rc)
		return rc;
	if ((rc = reco_daily_start(&app->daily, app->pg, (unsigned)app->cfg.daily_interval_us)))
		snprintf(err, err_len, "cannot start the origami of the day reader");
	return rc;
}

static void teardown(void *ctx)
{
	struct reco_app *app = ctx;
	reco_daily_stop(&app->daily); /* the server has stopped: nobody waits any more */
	if (app->pg)
		craft_service_close_db(&app->db, app->pg);
	reco_top_cleanup(&app->top);
	craft_config_free(reco_fields, CRAFT_ARRAY_LEN(reco_fields), &app->cfg);
}

int main(void)
{
	static struct reco_app app = {
	    .svc = {.name = "recommendation",
		    .title = "Recommendation service",
		    .description = "Picks the origami of the day and recommends the most-voted "
				   "origami of the Craftista catalogue."},
	};
	app.svc.links = reco_links;
	app.svc.nlinks = reco_nlinks;
	const struct craft_service_def def = {.default_port = 8080,
					      .routes = reco_routes,
					      .nroutes = reco_nroutes,
					      .setup = setup,
					      .teardown = teardown};
	return craft_service_main(&app.svc, &app, &def);
}
