#include "session.h"

#include "craft/base64url.h"
#include "craft/common.h"
#include "craft/log.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define FLASH_MAX       2048
#define FLASH_MAC_CHARS 32

static void claims_cleanup(void *data)
{
	craft_jwt_claims_cleanup(data);
}

static const char *secure_attr(const struct session_options *o)
{
	return o->secure ? "; Secure" : "";
}

bool session_user(craft_req *req, craft_jwks_cache *jwks, const struct session_options *o,
		  struct session_user *user)
{
	user->unverifiable = false;
	const char *token = craft_req_cookie(req, "jwt_token");
	if (!token || !token[0])
		return false;
	struct craft_jwt_claims *c = craft_arena_calloc(req->arena, 1, sizeof(*c));
	const char *reason = NULL;
	int rc = craft_jwks_cache_verify(jwks, req->span, token, strlen(token), c, &reason);
	if (rc != CRAFT_OK) {
		/* Only a token that is definitely invalid (malformed, bad signature,
		 * expired, wrong issuer or audience) ends the session. No keys yet,
		 * or a key id not published yet by the auth replica we asked, is
		 * not the token's fault: the cookies stay and a later request,
		 * once the keys are known, is logged in again. */
		if (rc != CRAFT_EUNAVAIL && rc != CRAFT_ENOTFOUND)
			session_clear(req, o);
		else
			user->unverifiable = true;
		craft_log(CRAFT_LOG_DEBUG, req->span, "session token refused", "{s:s}", "reason",
			  reason ? reason : "");
		return false;
	}
	craft_arena_cleanup_add(req->arena, claims_cleanup, c);
	user->username = c->sub;
	user->role = c->role ? c->role : "user";
	user->token = token;
	user->exp = c->exp;
	return true;
}

void session_set(craft_req *req, const struct session_options *o, const char *token,
		 const char *username, long max_age)
{
	craft_reply_header(req, "Set-Cookie",
			   craft_arena_sprintf(req->arena,
					       "jwt_token=%s; Path=/; Max-Age=%ld; HttpOnly; "
					       "SameSite=Strict%s",
					       token, max_age, secure_attr(o)));
	craft_reply_header(
	    req, "Set-Cookie",
	    craft_arena_sprintf(req->arena, "username=%s; Path=/; Max-Age=%ld; SameSite=Strict%s",
				username, max_age, secure_attr(o)));
}

void session_clear(craft_req *req, const struct session_options *o)
{
	static const char *const names[] = {"jwt_token", "username"};
	for (size_t i = 0; i < 2; i++)
		craft_reply_header(
		    req, "Set-Cookie",
		    craft_arena_sprintf(
			req->arena,
			"%s=; Path=/; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT; "
			"%sSameSite=Strict%s",
			names[i], i == 0 ? "HttpOnly; " : "", secure_attr(o)));
}

/* base64url(HMAC-SHA256(key, payload)), cut to FLASH_MAC_CHARS. */
static void flash_mac(const struct session_options *o, const char *payload, char *out)
{
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned int mac_len = 0;
	HMAC(EVP_sha256(), o->flash_key, sizeof(o->flash_key), (const unsigned char *)payload,
	     strlen(payload), mac, &mac_len);
	char text[64];
	craft_base64url_encode(mac, mac_len, text, sizeof(text), NULL);
	memcpy(out, text, FLASH_MAC_CHARS);
	out[FLASH_MAC_CHARS] = '\0';
}

void session_flash(craft_req *req, const struct session_options *o, const char *kind,
		   const char *message, json_t *extra)
{
	json_t *j = json_pack("{s:s, s:s}", "kind", kind, "message", message);
	if (extra)
		json_object_update(j, extra);
	char *text = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	if (!text)
		return;
	char *payload = craft_base64url_encode_alloc(text, strlen(text));
	free(text);
	char mac[FLASH_MAC_CHARS + 1];
	flash_mac(o, payload, mac);
	if (strlen(payload) + FLASH_MAC_CHARS < FLASH_MAX)
		craft_reply_header(req, "Set-Cookie",
				   craft_arena_sprintf(req->arena,
						       "flash=%s.%s; Path=/; Max-Age=60; HttpOnly; "
						       "SameSite=Strict%s",
						       payload, mac, secure_attr(o)));
	free(payload);
}

json_t *session_take_flash(craft_req *req, const struct session_options *o)
{
	const char *v = craft_req_cookie(req, SESSION_FLASH_COOKIE);
	if (!v || !v[0])
		return NULL;
	craft_reply_header(req, "Set-Cookie",
			   craft_arena_sprintf(
			       req->arena, "flash=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict%s",
			       secure_attr(o)));
	size_t n = strnlen(v, FLASH_MAX + 1);
	const char *dot = strrchr(v, '.');
	if (n > FLASH_MAX || !dot || strlen(dot + 1) != FLASH_MAC_CHARS)
		return NULL;
	char *payload = craft_arena_strndup(req->arena, v, (size_t)(dot - v));
	char mac[FLASH_MAC_CHARS + 1];
	flash_mac(o, payload, mac);
	if (CRYPTO_memcmp(mac, dot + 1, FLASH_MAC_CHARS) != 0)
		return NULL;
	size_t plen = strlen(payload);
	char *json = craft_arena_alloc(req->arena, plen + 1);
	size_t jlen = 0;
	if (craft_base64url_decode(payload, plen, json, plen, &jlen) != CRAFT_OK)
		return NULL;
	json_t *j = json_loadb(json, jlen, JSON_REJECT_DUPLICATES, NULL);
	if (j && !json_is_object(j)) {
		json_decref(j);
		j = NULL;
	}
	return j;
}

/* Does `url` start with our origin (scheme://host[:port]) exactly? */
bool session_url_is_ours(craft_req *req, const struct session_options *o, const char *url)
{
	if (o->public_origin && o->public_origin[0]) {
		size_t n = strlen(o->public_origin);
		return strncmp(url, o->public_origin, n) == 0 && (url[n] == '\0' || url[n] == '/');
	}
	const char *host = craft_req_header(req, "Host");
	if (!host)
		return false;
	const char *rest = NULL;
	static const char *const schemes[] = {"http://", "https://"};
	for (size_t i = 0; !rest && i < CRAFT_ARRAY_LEN(schemes); i++)
		if (strncmp(url, schemes[i], strlen(schemes[i])) == 0)
			rest = url + strlen(schemes[i]);
	if (!rest)
		return false;
	size_t n = strlen(host);
	return strncasecmp(rest, host, n) == 0 && (rest[n] == '\0' || rest[n] == '/');
}

bool session_same_origin(craft_req *req, const struct session_options *o)
{
	const char *site = craft_req_header(req, "Sec-Fetch-Site");
	if (site && strcasecmp(site, "cross-site") == 0)
		return false;
	const char *origin = craft_req_header(req, "Origin");
	if (origin)
		return strcmp(origin, "null") != 0 && session_url_is_ours(req, o, origin);
	const char *referer = craft_req_header(req, "Referer");
	if (referer)
		return session_url_is_ours(req, o, referer);
	return true;
}
