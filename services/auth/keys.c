#include "keys.h"

#include "craft/common.h"
#include "craft/log.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

static bool file_exists(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0;
}

/* mkdir -p of the directory part of `path`. */
static int make_parent_dirs(const char *path)
{
	char dir[4096];
	snprintf(dir, sizeof(dir), "%s", path);
	char *slash = strrchr(dir, '/');
	if (!slash || slash == dir)
		return CRAFT_OK;
	*slash = '\0';
	for (char *p = dir + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(dir, 0755) != 0 && errno != EEXIST)
			return CRAFT_EIO;
		*p = '/';
	}
	if (mkdir(dir, 0755) != 0 && errno != EEXIST)
		return CRAFT_EIO;
	return CRAFT_OK;
}

/* Generate the pair unless another process did while we waited for the lock. */
static int generate_pair(const struct auth_keys_options *o, char *err, size_t err_len)
{
	if (make_parent_dirs(o->private_path) || make_parent_dirs(o->public_path)) {
		snprintf(err, err_len, "cannot create the directory of RSA_PRIVATE_KEY_PATH (%s)",
			 o->private_path);
		return CRAFT_EIO;
	}
	char lock_path[4200];
	snprintf(lock_path, sizeof(lock_path), "%s.lock", o->private_path);
	int fd = open(lock_path, O_CREAT | O_RDWR | O_CLOEXEC, 0600);
	if (fd < 0 || flock(fd, LOCK_EX) != 0) {
		snprintf(err, err_len, "cannot lock %s: %s", lock_path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return CRAFT_EIO;
	}
	int rc = CRAFT_OK;
	if (!file_exists(o->private_path)) {
		craft_jwt_key *key = NULL;
		rc = craft_jwt_key_generate(o->generate_bits, o->kid, &key);
		if (rc == CRAFT_OK)
			rc = craft_jwt_key_write_pem(key, o->private_path, o->public_path);
		craft_jwt_key_free(key);
		if (rc)
			snprintf(err, err_len, "cannot generate a key pair at %s", o->private_path);
		else
			craft_log(CRAFT_LOG_WARN, NULL, "generated a development RSA key pair",
				  "{s:s, s:s, s:i}", "private_key", o->private_path, "public_key",
				  o->public_path, "bits", (int)o->generate_bits);
	}
	flock(fd, LOCK_UN);
	close(fd);
	return rc;
}

/* Add every <kid>.pem of `dir` (sorted by name for a stable order); errors
 * name the `setting` the directory came from. */
static int add_dir(craft_jwks *jwks, const char *dir, const char *setting, char *err,
		   size_t err_len)
{
	struct dirent **names = NULL;
	int n = scandir(dir, &names, NULL, alphasort);
	if (n < 0) {
		snprintf(err, err_len, "%s %s: %s", setting, dir, strerror(errno));
		return CRAFT_EIO;
	}
	int rc = CRAFT_OK;
	for (int i = 0; i < n; i++) {
		const char *name = names[i]->d_name;
		size_t len = strlen(name);
		if (rc || len <= 4 || strcmp(name + len - 4, ".pem") != 0 || name[0] == '.')
			continue;
		char kid[CRAFT_JWT_KID_MAX + 1], path[4200];
		snprintf(kid, sizeof(kid), "%.*s", (int)(len - 4), name);
		snprintf(path, sizeof(path), "%s/%s", dir, name);
		craft_jwt_key *key = NULL;
		char kerr[256];
		rc = craft_jwt_key_load_public_pem(path, kid, &key, kerr, sizeof(kerr));
		if (rc == CRAFT_OK)
			rc = craft_jwks_add(jwks, key);
		if (rc)
			snprintf(err, err_len, "%s: key %s: %s", setting, path,
				 rc == CRAFT_ECONFLICT ? "key id already published" : kerr);
	}
	for (int i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return rc;
}

int auth_keys_load(const struct auth_keys_options *o, struct auth_keys *out, char *err,
		   size_t err_len)
{
	memset(out, 0, sizeof(*out));
	if (!file_exists(o->private_path)) {
		if (!o->generate_if_missing) {
			snprintf(err, err_len,
				 "RSA_PRIVATE_KEY_PATH %s does not exist (keys are generated only "
				 "in development)",
				 o->private_path);
			return CRAFT_ENOTFOUND;
		}
		int rc = generate_pair(o, err, err_len);
		if (rc)
			return rc;
	}
	char kerr[256];
	int rc = craft_jwt_key_load_private_pem(o->private_path, o->kid, &out->signing, kerr,
						sizeof(kerr));
	if (rc) {
		snprintf(err, err_len, "RSA_PRIVATE_KEY_PATH %s: %s", o->private_path, kerr);
		return rc;
	}
	out->jwks = craft_jwks_new();
	craft_jwt_key *current = NULL;
	if ((rc = craft_jwt_key_dup_public(out->signing, &current)) ||
	    (rc = craft_jwks_add(out->jwks, current))) {
		snprintf(err, err_len, "cannot publish the signing key");
		auth_keys_cleanup(out);
		return rc;
	}
	if (file_exists(o->public_path)) {
		/* The published public key must be the signing key's own half. */
		craft_jwt_key *pub = NULL;
		rc =
		    craft_jwt_key_load_public_pem(o->public_path, o->kid, &pub, kerr, sizeof(kerr));
		if (rc == CRAFT_OK) {
			json_t *a = craft_jwt_key_to_jwk(pub);
			json_t *b = craft_jwt_key_to_jwk(out->signing);
			if (!json_equal(a, b)) {
				snprintf(err, err_len,
					 "RSA_PUBLIC_KEY_PATH %s is not the public half of "
					 "RSA_PRIVATE_KEY_PATH %s",
					 o->public_path, o->private_path);
				rc = CRAFT_EINVAL;
			}
			json_decref(a);
			json_decref(b);
		} else {
			snprintf(err, err_len, "RSA_PUBLIC_KEY_PATH %s: %s", o->public_path, kerr);
		}
		craft_jwt_key_free(pub);
	}
	/* current, then next (published before signing with them), then previous */
	if (rc == CRAFT_OK && o->next_dir && o->next_dir[0])
		rc = add_dir(out->jwks, o->next_dir, "RSA_NEXT_KEYS_DIR", err, err_len);
	if (rc == CRAFT_OK && o->previous_dir && o->previous_dir[0])
		rc = add_dir(out->jwks, o->previous_dir, "RSA_PREVIOUS_KEYS_DIR", err, err_len);
	if (rc)
		auth_keys_cleanup(out);
	return rc;
}

void auth_keys_cleanup(struct auth_keys *keys)
{
	craft_jwt_key_free(keys->signing);
	craft_jwks_free(keys->jwks);
	keys->signing = NULL;
	keys->jwks = NULL;
}
