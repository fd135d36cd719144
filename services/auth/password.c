#include "password.h"

#include "craft/common.h"

#include <crypt.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int auth_password_hash(const char *password, int cost, char out[AUTH_HASH_MAX])
{
	if (cost < AUTH_BCRYPT_COST_MIN || cost > AUTH_BCRYPT_COST_MAX)
		return CRAFT_EINVAL;
	char salt[CRYPT_GENSALT_OUTPUT_SIZE];
	if (!crypt_gensalt_rn("$2b$", (unsigned long)cost, NULL, 0, salt, sizeof(salt)))
		return CRAFT_EINTERNAL;
	struct crypt_data *data = craft_xcalloc(1, sizeof(*data));
	int rc = CRAFT_EINTERNAL;
	const char *h = crypt_rn(password, salt, data, sizeof(*data));
	if (h && h[0] != '*' && strlen(h) < AUTH_HASH_MAX) {
		snprintf(out, AUTH_HASH_MAX, "%s", h);
		rc = CRAFT_OK;
	}
	explicit_bzero(data, sizeof(*data));
	free(data);
	return rc;
}

int auth_password_dummy(int cost, char out[AUTH_HASH_MAX])
{
	if (cost < AUTH_BCRYPT_COST_MIN || cost > AUTH_BCRYPT_COST_MAX)
		return CRAFT_EINVAL;
	char salt[CRYPT_GENSALT_OUTPUT_SIZE];
	if (!crypt_gensalt_rn("$2b$", (unsigned long)cost, NULL, 0, salt, sizeof(salt)))
		return CRAFT_EINTERNAL;
	/* "$2b$NN$" + 22 salt characters, then the 31 of the digest */
	static const char digest[] = "...............................";
	size_t n = strlen(salt);
	if (n != 29 || n + sizeof(digest) > AUTH_HASH_MAX)
		return CRAFT_EINTERNAL;
	/* NOLINTNEXTLINE(bugprone-not-null-terminated-result): the digest brings the NUL */
	memcpy(out, salt, n);
	memcpy(out + n, digest, sizeof(digest)); /* with its NUL */
	return CRAFT_OK;
}

bool auth_password_check(const char *password, const char *hash)
{
	if (strncmp(hash, "$2b$", 4) != 0 && strncmp(hash, "$2a$", 4) != 0 &&
	    strncmp(hash, "$2y$", 4) != 0)
		return false;
	struct crypt_data *data = craft_xcalloc(1, sizeof(*data));
	const char *h = crypt_rn(password, hash, data, sizeof(*data));
	size_t n = strlen(hash);
	bool ok = h && h[0] != '*' && strlen(h) == n && CRYPTO_memcmp(h, hash, n) == 0;
	explicit_bzero(data, sizeof(*data));
	free(data);
	return ok;
}
