#include "tokens.h"

#include "craft/base64url.h"
#include "craft/common.h"

#include <openssl/rand.h>

int auth_token_issue(const craft_jwt_key *key, const struct auth_token_opts *opts, const char *sub,
		     const char *role, time_t now, char **out)
{
	unsigned char id[16];
	char jti[32];
	if (RAND_bytes(id, sizeof(id)) != 1 ||
	    craft_base64url_encode(id, sizeof(id), jti, sizeof(jti), NULL) != CRAFT_OK)
		return CRAFT_EINTERNAL;
	json_t *claims = json_pack("{s:s, s:s, s:I, s:I, s:s, s:s}", "sub", sub, "role", role,
				   "iat", (json_int_t)now, "exp", (json_int_t)now + opts->ttl_s,
				   "iss", opts->issuer, "jti", jti);
	if (!claims)
		return CRAFT_EINVAL;
	if (opts->audience && opts->audience[0])
		json_object_set_new(claims, "aud", json_string(opts->audience));
	int rc = craft_jwt_sign(key, claims, out);
	json_decref(claims);
	return rc;
}
