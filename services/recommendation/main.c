/* main.c - recommendation: read config, build dependencies, serve. */
#include "app.h"

#include "craft/common.h"
#include "craft/log.h"

#include <stdio.h>
#include <stdlib.h>

int main(void)
{
	static struct reco_app app = {
	    .svc = {.name = "recommendation",
		    .title = "Recommendation service",
		    .description = "Picks the origami of the day and recommends the most-voted "
				   "origami of the Craftista catalogue.",
		    .health = reco_health},
	};
	app.svc.links = reco_links;
	app.svc.nlinks = reco_nlinks;
	char err[512];
	craft_server_block_signals();
	if (craft_service_init(&app.svc, 8080, err, sizeof(err)) != CRAFT_OK) {
		fprintf(stderr, "recommendation: configuration error: %s\n", err);
		return 2;
	}
	if (craft_service_open_db(&app.svc, &app.db, reco_store_stmts, reco_store_nstmts, &app.pg,
				  err, sizeof(err)) != CRAFT_OK) {
		fprintf(stderr, "recommendation: configuration error: %s\n", err);
		craft_service_cleanup(&app.svc);
		return 2;
	}
	reco_daily_init(&app.daily);
	int rc = craft_service_run(&app.svc, reco_routes, reco_nroutes, &app, NULL);
	reco_daily_cleanup(&app.daily);
	craft_service_close_db(&app.db, app.pg);
	craft_service_cleanup(&app.svc);
	return rc == CRAFT_OK ? 0 : 1;
}
