/* session.h - the browser session: the jwt_token / username cookies, the
 * signed one-shot flash cookie, and the cross-site request check. */
#ifndef FRONTEND_SESSION_H
#define FRONTEND_SESSION_H

#include <stdbool.h>

#include <jansson.h>

#include "craft/http.h"
#include "craft/jwks_cache.h"

/* The one-shot message cookie's name. */
#define SESSION_FLASH_COOKIE "flash"

struct session_user {
	const char *username;
	const char *role;
	const char *token; /* the raw JWT, forwarded to product as a Bearer token */
	long long exp;
	bool unverifiable; /* a cookie that cannot be checked now (no keys, unknown kid) */
};

struct session_options {
	bool secure;               /* add Secure to every cookie */
	const char *public_origin; /* "" = derive from the Host header */
	unsigned char flash_key[32];
};

/* The logged-in user from the jwt_token cookie, verified (signature, expiry)
 * with the JWKS cache. Returns true with *user; false when there is no valid
 * session — and when a cookie was present but invalid, both cookies are
 * cleared on this request's response. A cookie that cannot be checked now
 * (no key set yet, or a key id not published to us yet) is kept: false with
 * user->unverifiable set, so actions can answer 503 rather than 401. */
bool session_user(craft_req *req, craft_jwks_cache *jwks, const struct session_options *o,
		  struct session_user *user);

/* True when `url` (an Origin or a Referer) is on this shop's own origin:
 * PUBLIC_ORIGIN when set, else this request's Host over http or https. */
bool session_url_is_ours(craft_req *req, const struct session_options *o, const char *url);

/* Set both cookies for a token of `max_age` seconds. */
void session_set(craft_req *req, const struct session_options *o, const char *token,
		 const char *username, long max_age);

/* Clear both cookies. */
void session_clear(craft_req *req, const struct session_options *o);

/* A message for the next page view: kind "success" | "error" | "info", and
 * optional form state (`extra` members such as field, username, email; may
 * be NULL; not consumed). */
void session_flash(craft_req *req, const struct session_options *o, const char *kind,
		   const char *message, json_t *extra);

/* The flash set by the previous response, if any (a new reference, or NULL);
 * it is cleared on this response. Tampered or oversized values are ignored. */
json_t *session_take_flash(craft_req *req, const struct session_options *o);

/* True unless the request comes from another site: Sec-Fetch-Site
 * "cross-site", or an Origin (else Referer) that is not ours. Requests with
 * neither (non-browser clients) pass; the cookies are SameSite=Strict. */
bool session_same_origin(craft_req *req, const struct session_options *o);

#endif
