/* service_jwks.c - the opener of auth's JWK set: settings, cache, figures of the cache and its HTTP
 * client. Declared in service_jwks.h. */
#include "service_jwks.h"

#include "common.h"
#include "config.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define JWKS_FIELD(member) offsetof(struct craft_jwks_config, member)

static const struct craft_config_field jwks_fields[] = {
    {.name = "AUTH_SERVICE_URL",
     .type = CRAFT_CONFIG_STR,
     .default_value = "http://localhost:8082",
     .min = 1,
     .max = 1024,
     .offset = JWKS_FIELD(auth_url),
     .help = "auth service base URL"},
    {.name = "JWKS_URL",
     .type = CRAFT_CONFIG_STR,
     .default_value = "",
     .max = 1024,
     .offset = JWKS_FIELD(jwks_url),
     .help = "JWK set to verify tokens with; default AUTH_SERVICE_URL/.well-known/jwks.json"},
    {.name = "JWT_ISSUER",
     .type = CRAFT_CONFIG_STR,
     .default_value = "",
     .max = 1024,
     .offset = JWKS_FIELD(issuer),
     .help = "required iss claim; empty = not checked"},
    {.name = "JWT_AUDIENCE",
     .type = CRAFT_CONFIG_STR,
     .default_value = "",
     .max = 256,
     .offset = JWKS_FIELD(audience),
     .help = "required aud claim; empty = not checked"},
    {.name = "JWKS_REFRESH_SECONDS",
     .type = CRAFT_CONFIG_INT,
     .default_value = "300",
     .min = 1,
     .max = 86400,
     .offset = JWKS_FIELD(refresh_s),
     .help = "periodic JWK set refresh"},
    {.name = "JWKS_MIN_REFETCH_MS",
     .type = CRAFT_CONFIG_INT,
     .default_value = "10000",
     .min = 100,
     .max = 600000,
     .offset = JWKS_FIELD(min_refetch_ms),
     .help = "least time between fetches caused by unknown key ids"},
};

static const struct craft_metric_desc jwks_metrics[] = {
    {"craft_jwks_keys", "Keys in the cached JWK set", CRAFT_METRIC_GAUGE},
    {"craft_jwks_fetch_failures_total", "Failed JWK set fetches", CRAFT_METRIC_COUNTER},
    {"craft_jwks_verified_hits_total",
     "Tokens accepted again without the RSA check (same key set, not expired)",
     CRAFT_METRIC_COUNTER},
};

static void collect_jwks(void *cache, double *v)
{
	struct craft_jwks_cache_stats st;
	craft_jwks_cache_stats(cache, &st);
	v[0] = st.keys;
	v[1] = (double)st.fetch_failures;
	v[2] = (double)st.verified_hits;
}

/* The outbound HTTP calls of the client a service verifies tokens with (the
 * frontend's and product's only client). */
static const struct craft_metric_desc httpc_metrics[] = {
    {"craft_http_client_requests_total", "Outbound HTTP calls made", CRAFT_METRIC_COUNTER},
    {"craft_http_client_failures_total", "Outbound HTTP calls without an answer",
     CRAFT_METRIC_COUNTER},
    {"craft_http_client_timeouts_total", "Outbound HTTP calls that timed out",
     CRAFT_METRIC_COUNTER},
    {"craft_http_client_in_use", "Outbound HTTP transfers running now", CRAFT_METRIC_GAUGE},
};

static void collect_httpc(void *client, double *v)
{
	struct craft_httpc_stats st;
	craft_httpc_stats(client, &st);
	v[0] = (double)st.requests;
	v[1] = (double)st.failures;
	v[2] = (double)st.timeouts;
	v[3] = st.in_use;
}

int craft_service_open_jwks(struct craft_service *svc, struct craft_jwks_config *cfg,
			    craft_httpc *http, craft_jwks_cache **out, char *err, size_t err_len)
{
	memset(cfg, 0, sizeof(*cfg));
	int rc = craft_config_load(jwks_fields, CRAFT_ARRAY_LEN(jwks_fields), cfg, NULL, NULL,
				   svc->config.development, err, err_len);
	if (rc)
		return rc;
	char url[1200];
	if (cfg->jwks_url[0]) {
		snprintf(url, sizeof(url), "%s", cfg->jwks_url);
	} else {
		size_t n = strlen(cfg->auth_url);
		while (n > 0 && cfg->auth_url[n - 1] == '/')
			n--;
		snprintf(url, sizeof(url), "%.*s/.well-known/jwks.json", (int)n, cfg->auth_url);
	}
	struct craft_jwks_cache_options jo = {
	    .url = url,
	    .http = http,
	    .refresh_s = (unsigned)cfg->refresh_s,
	    .min_refetch_ms = (unsigned)cfg->min_refetch_ms,
	    .verify = {.issuer = cfg->issuer, .audience = cfg->audience, .leeway_s = 30},
	};
	if ((rc = craft_jwks_cache_new(&jo, out))) {
		snprintf(err, err_len, "cannot start the JWK set refresher");
		return rc;
	}
	craft_metrics_add_collector(svc->metrics, jwks_metrics, CRAFT_ARRAY_LEN(jwks_metrics),
				    collect_jwks, *out);
	craft_metrics_add_collector(svc->metrics, httpc_metrics, CRAFT_ARRAY_LEN(httpc_metrics),
				    collect_httpc, http);
	return CRAFT_OK;
}

void craft_service_close_jwks(struct craft_jwks_config *cfg, craft_jwks_cache *cache)
{
	craft_jwks_cache_free(cache);
	craft_config_free(jwks_fields, CRAFT_ARRAY_LEN(jwks_fields), cfg);
}
